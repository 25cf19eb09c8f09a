import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemText from '@mui/material/ListItemText';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useState, type SubmitEvent } from 'react';
import { ApiError, type Item } from '../api/client.js';
import { useApi } from '../api/context.js';
import { ErrorAlert, messageOf } from '../components/ErrorAlert.js';
import { SectionCard } from '../components/SectionCard.js';
import { TextInput } from '../components/TextInput.js';

/** Items in creation (id) order, each once, however pages and new items arrive. */
function merge(current: Item[], incoming: Item[]): Item[] {
  const byId = new Map(current.map((item) => [item.id, item]));
  for (const item of incoming) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

const createdAt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The items list, a page at a time, with a form that adds one. */
export function ItemsCard() {
  const api = useApi();
  const [items, setItems] = useState<Item[]>([]);
  const [next, setNext] = useState<string>();
  // A new object per request, so asking for the same page again (Retry) reruns the effect.
  const [request, setRequest] = useState<{ page?: string }>({});
  const [loading, setLoading] = useState(true);
  const [loadFailure, setLoadFailure] = useState<string>();
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string>();
  const [addError, setAddError] = useState<string>();
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<Item>();

  useEffect(() => {
    let current = true;
    api.items.list(request.page).then(
      (result) => {
        if (!current) return;
        setItems((shown) => merge(shown, result.items));
        setNext(result.next);
        setLoading(false);
      },
      (error: unknown) => {
        if (!current) return;
        setLoadFailure(messageOf(error));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [api, request]);

  const requestPage = (page?: string) => {
    setLoading(true);
    setLoadFailure(undefined);
    setRequest({ page });
  };

  const add = async () => {
    const trimmed = name.trim();
    setAddError(undefined);
    setAdded(undefined);
    if (trimmed === '') {
      setNameError('Enter a name');
      return;
    }
    setAdding(true);
    try {
      const item = await api.items.create(trimmed);
      setItems((current) => merge(current, [item]));
      setAdded(item);
      setName('');
    } catch (error) {
      if (error instanceof ApiError && error.field === 'name') setNameError(error.fieldMessage);
      else setAddError(messageOf(error));
    } finally {
      setAdding(false);
    }
  };

  return (
    <SectionCard id="items" title="Items" subheader="In the order they were added">
      <Stack
        component="form"
        direction="row"
        spacing={1}
        noValidate
        sx={{ alignItems: 'flex-start' }}
        onSubmit={(event: SubmitEvent) => {
          event.preventDefault();
          void add();
        }}
      >
        <TextInput
          label="Item name"
          name="name"
          autoComplete="off"
          fullWidth
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setNameError(undefined);
          }}
          error={nameError !== undefined}
          helperText={nameError ?? '1 to 200 characters'}
        />
        <Button type="submit" variant="contained" loading={adding} sx={{ mt: 1 }}>
          Add
        </Button>
      </Stack>
      <div aria-live="polite">
        {added && (
          <Alert severity="success" sx={{ mt: 2 }}>
            Added “{added.name}” (#{added.id})
          </Alert>
        )}
      </div>
      <Stack spacing={2} sx={{ mt: 2 }}>
        {addError !== undefined && <ErrorAlert message={addError} onRetry={() => void add()} />}
        {items.length > 0 && (
          <List dense aria-label="Items" data-testid="items-list">
            {items.map((item) => (
              <ListItem
                key={item.id}
                divider
                sx={item.id === added?.id ? { bgcolor: 'action.selected' } : undefined}
              >
                <ListItemText
                  primary={item.name}
                  secondary={`#${item.id} · ${createdAt.format(new Date(item.createdAt))}`}
                />
              </ListItem>
            ))}
          </List>
        )}
        {!loading && loadFailure === undefined && items.length === 0 && (
          <Typography color="text.secondary">No items yet. Add the first one above.</Typography>
        )}
        {loadFailure !== undefined && (
          <ErrorAlert message={loadFailure} onRetry={() => requestPage(request.page)} />
        )}
        {loading && <CircularProgress aria-label="Loading items" sx={{ alignSelf: 'center' }} />}
        {!loading && next !== undefined && loadFailure === undefined && (
          <Button onClick={() => requestPage(next)}>Load more</Button>
        )}
      </Stack>
    </SectionCard>
  );
}
