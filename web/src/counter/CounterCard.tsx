import SettingsIcon from '@mui/icons-material/Settings';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CardActions from '@mui/material/CardActions';
import CircularProgress from '@mui/material/CircularProgress';
import IconButton from '@mui/material/IconButton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type StreamStatus } from '../api/client.js';
import { useApi } from '../api/context.js';
import { ErrorAlert, messageOf } from '../components/ErrorAlert.js';
import { LoadFailureBoundary, reloadPage } from '../components/LoadFailureBoundary.js';
import { SectionCard } from '../components/SectionCard.js';
import { LiveStatus } from './LiveStatus.js';

// The menu and the reset dialog (with MUI's modal, popover and focus-trap code) are a
// separate chunk: most visits never open them, and a phone parses less before it can
// respond. It is fetched once the page is idle, so opening Settings does not wait on it.
const loadSettings = () => import('./CounterSettings.js');
const CounterSettings = lazy(() =>
  loadSettings().then(({ CounterSettings }) => ({ default: CounterSettings })),
);

function whenIdle(task: () => void): () => void {
  if ('requestIdleCallback' in window) {
    const handle = window.requestIdleCallback(task, { timeout: 5000 });
    return () => window.cancelIdleCallback(handle);
  }
  const handle = setTimeout(task, 2000);
  return () => clearTimeout(handle);
}

/** The camera stock: how many are left, a button that sells one, and Reset under Settings. */
export function CounterCard() {
  const api = useApi();
  const [counter, setCounter] = useState<number>();
  const [loadError, setLoadError] = useState<string>();
  const [saleError, setSaleError] = useState<string>();
  const [stream, setStream] = useState<StreamStatus>('connecting');
  const [menuAnchor, setMenuAnchor] = useState<HTMLElement | null>(null);
  // Mounted on first use and kept, so the dialog remembers an accepted admin token.
  const [settingsUsed, setSettingsUsed] = useState(false);
  const selling = useRef(false);
  // While the stream is live it delivers every change in commit order, so it alone sets
  // the number; a sale's own answer could arrive after a newer event and show a stale one.
  const streamLive = useRef(false);
  const show = useCallback((value: number) => {
    if (!streamLive.current) setCounter(value);
  }, []);

  // Bumped by Retry: each value is one more attempt at reading the stock.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    api.counter.get().then(
      (value) => {
        if (!current) return;
        show(value);
        setLoadError(undefined);
      },
      (error: unknown) => {
        if (current) setLoadError(messageOf(error));
      },
    );
    return () => {
      current = false;
    };
  }, [api, attempt, show]);

  useEffect(
    () =>
      api.counter.subscribe(
        (value) => {
          setCounter(value);
          setLoadError(undefined);
        },
        (status) => {
          streamLive.current = status === 'live';
          setStream(status);
        },
      ),
    [api],
  );

  const sell = async () => {
    // One sale per click: a double click must not sell two cameras.
    if (selling.current) return;
    selling.current = true;
    setSaleError(undefined);
    try {
      show(await api.counter.sell());
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) show(0);
      else setSaleError(messageOf(error));
    } finally {
      selling.current = false;
    }
  };

  useEffect(
    () =>
      whenIdle(() => {
        // A failure here shows when Settings is opened, where it can be explained.
        loadSettings().catch(() => undefined);
      }),
    [],
  );

  const soldOut = counter === 0;
  return (
    <SectionCard
      id="counter"
      title="Cameras in stock"
      action={
        <IconButton
          aria-label="Settings"
          aria-haspopup="menu"
          aria-controls={menuAnchor ? 'counter-settings' : undefined}
          aria-expanded={menuAnchor ? 'true' : undefined}
          onClick={(event) => {
            setMenuAnchor(event.currentTarget);
            setSettingsUsed(true);
          }}
        >
          <SettingsIcon />
        </IconButton>
      }
      footer={
        <CardActions sx={{ justifyContent: 'center', pb: 3 }}>
          <Button
            variant="contained"
            size="large"
            disabled={counter === undefined || soldOut}
            onClick={() => void sell()}
          >
            {soldOut ? 'Sold out' : 'Sell one camera'}
          </Button>
        </CardActions>
      }
    >
      <Stack spacing={2} sx={{ alignItems: 'center', textAlign: 'center' }}>
        {/* As tall as the number it waits for, so nothing below jumps when it arrives. */}
        <Box sx={{ minHeight: '6.5rem', display: 'grid', placeItems: 'center' }}>
          {counter === undefined && loadError === undefined && (
            <CircularProgress aria-label="Loading the stock" />
          )}
          {counter !== undefined && (
            <div role="status">
              <Typography
                variant="h2"
                component="p"
                data-testid="counter-value"
                sx={{ fontWeight: 600 }}
              >
                {counter}
              </Typography>
              <Typography color="text.secondary">
                {counter === 1 ? 'camera left' : 'cameras left'}
              </Typography>
            </div>
          )}
        </Box>
        {loadError !== undefined && (
          <ErrorAlert message={loadError} onRetry={() => setAttempt((n) => n + 1)} />
        )}
        {saleError !== undefined && <ErrorAlert message={saleError} onRetry={() => void sell()} />}
        <LiveStatus status={stream} />
      </Stack>
      {settingsUsed && (
        <LoadFailureBoundary
          fallback={
            <ErrorAlert
              message="Settings could not be shown. Reload the page to try again."
              onRetry={reloadPage}
              retryLabel="Reload"
            />
          }
        >
          <Suspense fallback={null}>
            <CounterSettings
              anchor={menuAnchor}
              onCloseMenu={() => setMenuAnchor(null)}
              onReset={show}
            />
          </Suspense>
        </LoadFailureBoundary>
      )}
    </SectionCard>
  );
}
