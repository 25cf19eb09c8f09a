import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';

/** A failed request: what went wrong, in words, and a way to try again. */
export function ErrorAlert({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <Alert
      severity="error"
      action={
        onRetry && (
          <Button color="inherit" size="small" onClick={onRetry}>
            Retry
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
