import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import { StrictMode, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client.js';
import { ApiProvider } from './api/context.js';
import { App } from './App.js';
import { theme } from './theme.js';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');

const client = createApiClient({
  fetch: window.fetch.bind(window),
  EventSource: window.EventSource,
});

// A transition lets React render the first page in slices that yield to the browser,
// instead of one long task that holds up input on a slow phone.
startTransition(() => {
  createRoot(root).render(
    <StrictMode>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        <ApiProvider client={client}>
          <App />
        </ApiProvider>
      </ThemeProvider>
    </StrictMode>,
  );
});
