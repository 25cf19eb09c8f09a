import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import { useState, type SubmitEvent } from 'react';
import { ApiError } from '../api/client.js';
import { useApi } from '../api/context.js';
import { ErrorAlert, messageOf } from '../components/ErrorAlert.js';
import { SectionCard } from '../components/SectionCard.js';
import { TextInput } from '../components/TextInput.js';

type Field = 'username' | 'dateOfBirth';
type Outcome =
  | { kind: 'greeting'; message: string }
  | { kind: 'unknown'; message: string }
  | { kind: 'failure'; message: string; retry: () => void };

/** The latest date the browser offers: yesterday, since a birth date must be before today. */
function yesterday(): string {
  const date = new Date();
  date.setDate(date.getDate() - 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Save someone's date of birth and read their greeting, or look a greeting up. */
export function BirthdayCard() {
  const api = useApi();
  const [username, setUsername] = useState('');
  const [dateOfBirth, setDateOfBirth] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState<'save' | 'greet'>();

  const run = async (action: 'save' | 'greet') => {
    const name = username.trim();
    const missing: Partial<Record<Field, string>> = {};
    if (name === '') missing.username = 'Enter a username';
    if (action === 'save' && dateOfBirth === '') missing.dateOfBirth = 'Pick a date of birth';
    setFieldErrors(missing);
    setOutcome(undefined);
    if (Object.keys(missing).length > 0) return;
    setBusy(action);
    try {
      if (action === 'save') await api.birthdays.save(name, dateOfBirth);
      setOutcome({ kind: 'greeting', message: await api.birthdays.greet(name) });
    } catch (error) {
      const field = error instanceof ApiError ? error.field : undefined;
      if (error instanceof ApiError && (field === 'username' || field === 'dateOfBirth'))
        setFieldErrors({ [field]: error.fieldMessage });
      else if (error instanceof ApiError && error.status === 404)
        setOutcome({ kind: 'unknown', message: `${error.message}. Save a date of birth first.` });
      else
        setOutcome({ kind: 'failure', message: messageOf(error), retry: () => void run(action) });
    } finally {
      setBusy(undefined);
    }
  };

  const edit = (field: Field, value: string) => {
    (field === 'username' ? setUsername : setDateOfBirth)(value);
    setFieldErrors((errors) => ({ ...errors, [field]: undefined }));
  };

  return (
    <SectionCard
      id="birthdays"
      title="Birthdays"
      subheader="Save a date of birth, then get the greeting"
    >
      <Stack
        component="form"
        spacing={2}
        noValidate
        onSubmit={(event: SubmitEvent) => {
          event.preventDefault();
          void run('save');
        }}
      >
        <TextInput
          label="Username"
          name="username"
          autoComplete="off"
          value={username}
          onChange={(event) => edit('username', event.target.value)}
          error={fieldErrors.username !== undefined}
          helperText={fieldErrors.username ?? 'Letters only, up to 64'}
        />
        <TextInput
          label="Date of birth"
          name="dateOfBirth"
          type="date"
          value={dateOfBirth}
          onChange={(event) => edit('dateOfBirth', event.target.value)}
          error={fieldErrors.dateOfBirth !== undefined}
          helperText={fieldErrors.dateOfBirth ?? 'Before today'}
          shrinkLabel
          max={yesterday()}
        />
        <Stack direction="row" spacing={1}>
          <Button type="submit" variant="contained" loading={busy === 'save'}>
            Save
          </Button>
          <Button variant="outlined" loading={busy === 'greet'} onClick={() => void run('greet')}>
            Greet
          </Button>
        </Stack>
        <div aria-live="polite">
          {outcome?.kind === 'greeting' && (
            <Alert severity="success" data-testid="greeting">
              {outcome.message}
            </Alert>
          )}
          {outcome?.kind === 'unknown' && <Alert severity="info">{outcome.message}</Alert>}
        </div>
        {outcome?.kind === 'failure' && (
          <ErrorAlert message={outcome.message} onRetry={outcome.retry} />
        )}
      </Stack>
    </SectionCard>
  );
}
