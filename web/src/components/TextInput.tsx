import FormControl from '@mui/material/FormControl';
import FormHelperText from '@mui/material/FormHelperText';
import InputLabel from '@mui/material/InputLabel';
import OutlinedInput from '@mui/material/OutlinedInput';
import { useId, type ChangeEvent } from 'react';

interface TextInputProps {
  label: string;
  value: string;
  onChange: (event: ChangeEvent<HTMLInputElement>) => void;
  name?: string;
  type?: 'text' | 'password' | 'date';
  autoComplete?: string;
  autoFocus?: boolean;
  required?: boolean;
  fullWidth?: boolean;
  margin?: 'none' | 'dense' | 'normal';
  error?: boolean;
  helperText?: string;
  /** Keeps the label above the field, for inputs that draw their own placeholder (dates). */
  shrinkLabel?: boolean;
  max?: string;
}

/**
 * An outlined, labelled text field with its helper text wired to aria-describedby.
 * MUI's TextField does the same but also bundles Select and its popover machinery, which
 * the page never uses: this keeps that out of the script a phone has to parse first.
 */
export function TextInput({
  label,
  helperText,
  shrinkLabel,
  max,
  fullWidth,
  margin,
  error,
  required,
  ...input
}: TextInputProps) {
  const id = useId();
  const helperId = `${id}-helper`;
  return (
    <FormControl
      variant="outlined"
      fullWidth={fullWidth}
      margin={margin}
      error={error}
      required={required}
    >
      <InputLabel htmlFor={id} shrink={shrinkLabel}>
        {label}
      </InputLabel>
      <OutlinedInput
        id={id}
        label={label}
        notched={shrinkLabel}
        aria-describedby={helperText === undefined ? undefined : helperId}
        inputProps={max === undefined ? undefined : { max }}
        {...input}
      />
      {helperText !== undefined && <FormHelperText id={helperId}>{helperText}</FormHelperText>}
    </FormControl>
  );
}
