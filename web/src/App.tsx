import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Grid from '@mui/material/Grid';
import Link from '@mui/material/Link';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { BirthdayCard } from './birthdays/BirthdayCard.js';
import { CounterCard } from './counter/CounterCard.js';
import { ItemsCard } from './items/ItemsCard.js';

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
        <Grid container spacing={3}>
          <Grid size={{ xs: 12, md: 6 }}>
            <BirthdayCard />
          </Grid>
          <Grid size={{ xs: 12, md: 6 }}>
            <ItemsCard />
          </Grid>
        </Grid>
      </Container>
    </>
  );
}
