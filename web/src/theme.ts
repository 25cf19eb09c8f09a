import { createTheme } from '@mui/material/styles';

/** Material defaults with the platform's own fonts: nothing to download before first paint. */
export const theme = createTheme({
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  },
  palette: {
    background: { default: '#f4f6f8' },
  },
});
