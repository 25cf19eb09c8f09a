-- Items: a list of named items, read in creation (id) order with keyset pagination.
CREATE TABLE items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (name = btrim(name) AND char_length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Counters: stock that can only go down by sales and back up by a reset.
CREATE TABLE counters (
  name text PRIMARY KEY,
  value integer NOT NULL,
  initial_stock integer NOT NULL CHECK (initial_stock > 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT counters_value_in_stock CHECK (value BETWEEN 0 AND initial_stock)
);

-- Every committed change is announced to every replica (LISTEN counter_changed).
CREATE FUNCTION notify_counter_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('counter_changed', json_build_object('name', NEW.name, 'value', NEW.value)::text);
  RETURN NEW;
END
$$;

CREATE TRIGGER counters_notify_changed
AFTER INSERT OR UPDATE OF value ON counters
FOR EACH ROW EXECUTE FUNCTION notify_counter_changed();

-- Birthdays: one row per username.
CREATE TABLE birthdays (
  username text PRIMARY KEY CHECK (char_length(username) BETWEEN 1 AND 64),
  date_of_birth date NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
