import type { EnvironmentConfig, RestoreConfig, Subscribers } from './types';

// Enough to catch a typo or a pasted name; SNS's confirmation e-mail proves the rest.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function subscriberProblems(topic: string, subscribers: Subscribers): string[] {
  const problems: string[] = [];
  for (const email of subscribers.emails)
    if (!EMAIL.test(email)) problems.push(`alarms.${topic}.emails: "${email}" is not an address`);
  for (const endpoint of subscribers.httpsEndpoints)
    if (!URL.canParse(endpoint) || new URL(endpoint).protocol !== 'https:')
      problems.push(`alarms.${topic}.httpsEndpoints: "${endpoint}" is not an https:// URL`);
  return problems;
}

/**
 * Connections PostgreSQL keeps from the app: superuser_reserved_connections (3, for RDS's own
 * rdsadmin) and room for an operator's psql or pg_dump while the pools are full.
 */
export const RESERVED_CONNECTIONS = 10;
/**
 * Migrations run on a session of their own, outside the pool, under the advisory lock
 * (src/platform/database/migrations.ts): one in each task while it starts (waiting for the lock
 * included), and one in the migrate task when an operator runs it.
 */
export const MIGRATION_CONNECTIONS = 1;
/** A deployment starts the new tasks before it stops the old ones (maxHealthyPercent 200). */
export const DEPLOY_OVERLAP = 2;

/** The most connections the app can open at once, and how many the database lets it have. */
export function connectionBudget(config: EnvironmentConfig) {
  const { maxTasks, databasePoolMax } = config.service;
  // Each task: its pool, one connection holding LISTEN (counter events), its migrations.
  const perTask = databasePoolMax + 1 + MIGRATION_CONNECTIONS;
  const worstCase = maxTasks * DEPLOY_OVERLAP * perTask + MIGRATION_CONNECTIONS;
  const available = config.database.maxConnections - RESERVED_CONNECTIONS;
  const explained =
    `${maxTasks} tasks × ${DEPLOY_OVERLAP} (a deploy runs old and new side by side) × ` +
    `(${databasePoolMax} pooled + 1 LISTEN + ${MIGRATION_CONNECTIONS} migrations) + ` +
    `${MIGRATION_CONNECTIONS} migrate task = ${worstCase}`;
  return { worstCase, available, explained };
}

function connectionProblems(config: EnvironmentConfig): string[] {
  const { worstCase, available, explained } = connectionBudget(config);
  if (worstCase <= available) return [];
  return [
    `service.databasePoolMax: ${explained} connections, over the ${available} the database ` +
      `allows (max_connections ${config.database.maxConnections} − ${RESERVED_CONNECTIONS} reserved)`,
  ];
}

// RDS keeps automated backups (and so point-in-time recovery) for 1 to 35 days.
const MAX_BACKUP_RETENTION_DAYS = 35;
// AWS Backup vault names: 2 to 50 letters, digits, hyphens and underscores.
const VAULT_NAME = /^[\w-]{2,50}$/;
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function backupProblems(config: EnvironmentConfig): string[] {
  const problems: string[] = [];
  const { backupRetention, backupPlan } = config.database;
  const days = backupRetention.toDays();
  if (days < 1 || days > MAX_BACKUP_RETENTION_DAYS)
    problems.push(
      `database.backupRetention: ${days} days; point-in-time recovery needs 1 to ${MAX_BACKUP_RETENTION_DAYS}`,
    );
  if (backupPlan === undefined) {
    if (config.name === 'production')
      problems.push('database.backupPlan: production needs daily backups copied to another region');
    return problems;
  }
  if (backupPlan.retention.toDays({ integral: false }) < 1)
    problems.push('database.backupPlan.retention: keep each backup at least 1 day');
  if (backupPlan.copy.retention.toDays({ integral: false }) < 1)
    problems.push('database.backupPlan.copy.retention: keep each copy at least 1 day');
  if (backupPlan.copy.region === config.region)
    problems.push(
      `database.backupPlan.copy.region: ${config.region} is the database's own region; copy to another`,
    );
  if (!VAULT_NAME.test(backupPlan.copy.vaultName))
    problems.push(
      `database.backupPlan.copy.vaultName: "${backupPlan.copy.vaultName}" is not 2 to 50 letters, digits, - or _`,
    );
  return problems;
}

function restoreProblems(restore: RestoreConfig | undefined): string[] {
  if (restore === undefined) return [];
  const problems: string[] = [];
  const { fromSnapshot, fromInstance, restoreTime, latestRestorableTime = false } = restore;
  const pointInTime = restoreTime !== undefined || latestRestorableTime;
  if (fromSnapshot !== undefined && fromInstance !== undefined)
    problems.push(
      'database.restore: fromSnapshot and fromInstance contradict each other; restore from one',
    );
  else if (fromSnapshot === undefined && fromInstance === undefined)
    problems.push(
      pointInTime
        ? 'database.restore: a point in time needs fromInstance, the instance to restore from'
        : 'database.restore: set fromSnapshot, or fromInstance with restoreTime or latestRestorableTime',
    );
  else if (fromSnapshot !== undefined && pointInTime)
    problems.push(
      'database.restore: restoreTime and latestRestorableTime apply to fromInstance, not to a snapshot',
    );
  else if (fromInstance !== undefined && !pointInTime)
    problems.push(
      'database.restore.fromInstance: say which point in time, restoreTime or latestRestorableTime',
    );
  if (restoreTime !== undefined && latestRestorableTime)
    problems.push(
      'database.restore: restoreTime and latestRestorableTime contradict each other; set one',
    );
  if (restoreTime !== undefined && (!UTC_TIME.test(restoreTime) || !Date.parse(restoreTime)))
    problems.push(
      `database.restore.restoreTime: "${restoreTime}" is not a UTC time like 2026-01-31T23:45:00Z`,
    );
  for (const [key, value] of Object.entries({ fromSnapshot, fromInstance }))
    if (value?.trim() === '') problems.push(`database.restore.${key}: empty`);
  if (restore.retireOriginal && restore.serve === 'original')
    problems.push(
      "database.restore: retireOriginal with serve 'original' would delete the instance the service uses",
    );
  return problems;
}

/** Every mistake in an environment's config, one line each; empty when there is none. */
export function configProblems(config: EnvironmentConfig): string[] {
  const problems = [
    ...subscriberProblems('page', config.alarms.page),
    ...subscriberProblems('ticket', config.alarms.ticket),
  ];
  const { page } = config.alarms;
  // A production page that reaches no one is an outage nobody hears about.
  if (config.name === 'production' && page.emails.length + page.httpsEndpoints.length === 0)
    problems.push('alarms.page: production needs at least one e-mail or HTTPS subscriber');
  const ratio = config.tracing.samplingRatio;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    problems.push(`tracing.samplingRatio: ${ratio} is not between 0 and 1`);
  problems.push(...connectionProblems(config));
  problems.push(...backupProblems(config));
  problems.push(...restoreProblems(config.database.restore));
  return problems;
}

/** Throws one error that lists every mistake, so a bad config never synthesizes. */
export function validateConfig(config: EnvironmentConfig): void {
  const problems = configProblems(config);
  if (problems.length > 0)
    throw new Error(`infra/aws/config/${config.name}.ts:\n  ${problems.join('\n  ')}`);
}
