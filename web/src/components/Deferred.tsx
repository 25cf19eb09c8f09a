import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import { Suspense, type ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert.js';
import { LoadFailureBoundary, reloadPage } from './LoadFailureBoundary.js';

interface DeferredProps {
  /** What the children show, for the spinner's label and the failure message. */
  what: string;
  /** Lazily loaded components. */
  children: ReactNode;
}

/**
 * Part of the page whose code arrives after the first script: a spinner where it will
 * appear, and a message with a reload if it cannot load. One spinner for all of it, so
 * the parts appear together and nothing already shown moves.
 */
export function Deferred({ what, children }: DeferredProps) {
  return (
    <LoadFailureBoundary
      fallback={
        <ErrorAlert
          message={`${what} could not be shown. Reload the page to try again.`}
          onRetry={reloadPage}
          retryLabel="Reload"
        />
      }
    >
      <Suspense
        fallback={
          <Box sx={{ display: 'grid', placeItems: 'center', py: 3 }}>
            <CircularProgress aria-label={`Loading ${what.toLowerCase()}`} />
          </Box>
        }
      >
        {children}
      </Suspense>
    </LoadFailureBoundary>
  );
}
