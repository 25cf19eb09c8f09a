-- Each counter change also says when it was made, so every replica can measure how long
-- the change took to reach its open event streams (the live-updates latency SLO).
-- Backward compatible: the previous release reads only `name` and `value`.
CREATE OR REPLACE FUNCTION notify_counter_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(
    'counter_changed',
    json_build_object(
      'name', NEW.name,
      'value', NEW.value,
      'changedAtMs', floor(extract(epoch FROM clock_timestamp()) * 1000)
    )::text
  );
  RETURN NEW;
END
$$;
