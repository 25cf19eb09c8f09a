import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';

interface ErrorAlertProps {
  message: string;
  onRetry?: () => void;
  retryLabel?: string;
}

/** A failed request: what went wrong, in words, and a way to try again. */
export function ErrorAlert({ message, onRetry, retryLabel = 'Retry' }: ErrorAlertProps) {
  return (
    <Alert
      severity="error"
      action={
        onRetry && (
          <Button color="inherit" size="small" onClick={onRetry}>
            {retryLabel}
          </Button>
        )
      }
    >
      {message}
    </Alert>
  );
}

/** The message to show for anything a request threw. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong. Retry shortly.';
}
