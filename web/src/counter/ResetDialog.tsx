import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { useState, type SubmitEvent } from 'react';
import { ApiError } from '../api/client.js';
import { useApi } from '../api/context.js';
import { messageOf } from '../components/ErrorAlert.js';
import { TextInput } from '../components/TextInput.js';

interface ResetDialogProps {
  open: boolean;
  onClose: () => void;
  onReset: (counter: number) => void;
}

/**
 * Confirms a reset. When the service answers 401 it asks for the admin token and keeps
 * an accepted one in memory for this page only (never in storage).
 */
export function ResetDialog({ open, onClose, onReset }: ResetDialogProps) {
  const api = useApi();
  const [acceptedToken, setAcceptedToken] = useState<string>();
  const [needsToken, setNeedsToken] = useState(false);
  const [token, setToken] = useState('');
  const [tokenRejected, setTokenRejected] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const close = () => {
    setError(undefined);
    setTokenRejected(false);
    onClose();
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const attempt = needsToken ? token : acceptedToken;
    setBusy(true);
    setError(undefined);
    setTokenRejected(false);
    try {
      onReset(await api.counter.reset(attempt));
      setAcceptedToken(attempt);
      setNeedsToken(false);
      setToken('');
      onClose();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        setTokenRejected(needsToken);
        setNeedsToken(true);
      } else {
        setError(messageOf(caught));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={close} aria-labelledby="reset-title" fullWidth maxWidth="xs">
      <form onSubmit={(event) => void submit(event)} noValidate>
        <DialogTitle id="reset-title">Reset the stock?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            {needsToken
              ? 'Resetting needs the admin token.'
              : 'Every camera goes back in stock, on every screen.'}
          </DialogContentText>
          {needsToken && (
            <TextInput
              autoFocus
              required
              fullWidth
              margin="dense"
              type="password"
              label="Admin token"
              autoComplete="off"
              value={token}
              onChange={(event) => setToken(event.target.value)}
              error={tokenRejected}
              helperText={
                tokenRejected ? 'That token was not accepted. Check it and try again.' : undefined
              }
            />
          )}
          {error !== undefined && (
            <Alert severity="error" sx={{ mt: 2 }}>
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="contained" color="error" loading={busy}>
            Reset
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
