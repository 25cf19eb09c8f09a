import Typography from '@mui/material/Typography';
import type { StreamStatus } from '../api/client.js';

const WORDS: Record<StreamStatus, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live: sales elsewhere show up here at once',
  reconnecting: 'Live updates interrupted — reconnecting…',
};

/** Says whether the number on screen follows other people's sales right now. */
export function LiveStatus({ status }: { status: StreamStatus }) {
  return (
    <Typography
      variant="body2"
      aria-live="polite"
      data-testid="live-status"
      data-status={status}
      color={status === 'reconnecting' ? 'warning.dark' : 'text.secondary'}
    >
      {WORDS[status]}
    </Typography>
  );
}
