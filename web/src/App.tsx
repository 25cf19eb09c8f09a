import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Grid from '@mui/material/Grid';
import Link from '@mui/material/Link';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { lazy } from 'react';
import { Deferred } from './components/Deferred.js';
import { CounterCard } from './counter/CounterCard.js';

// Below the counter on a phone: their code is separate chunks, so the first script is
// smaller and the page renders in shorter tasks (docs/performance-web.md).
const BirthdayCard = lazy(() =>
  import('./birthdays/BirthdayCard.js').then(({ BirthdayCard }) => ({ default: BirthdayCard })),
);
const ItemsCard = lazy(() =>
  import('./items/ItemsCard.js').then(({ ItemsCard }) => ({ default: ItemsCard })),
);

/** The one page: the counter card centred on top, birthdays and items below. */
export function App() {
  return (
    <>
      <AppBar position="static" component="header" elevation={0}>
        <Toolbar>
          <Typography variant="h6" component="h1" sx={{ flexGrow: 1 }}>
            shipshape
          </Typography>
          <Link href="/docs" color="inherit" underline="hover">
            API docs
          </Link>
        </Toolbar>
      </AppBar>
      <Container component="main" maxWidth="md" sx={{ py: 3 }}>
        <Box sx={{ maxWidth: 440, mx: 'auto', mb: 3 }}>
          <CounterCard />
        </Box>
        <Deferred what="Birthdays and items">
          <Grid container spacing={3}>
            <Grid size={{ xs: 12, md: 6 }}>
              <BirthdayCard />
            </Grid>
            <Grid size={{ xs: 12, md: 6 }}>
              <ItemsCard />
            </Grid>
          </Grid>
        </Deferred>
      </Container>
    </>
  );
}
