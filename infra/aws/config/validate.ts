import type { EnvironmentConfig, Subscribers } from './types';

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
  return problems;
}

/** Throws one error that lists every mistake, so a bad config never synthesizes. */
export function validateConfig(config: EnvironmentConfig): void {
  const problems = configProblems(config);
  if (problems.length > 0)
    throw new Error(`infra/aws/config/${config.name}.ts:\n  ${problems.join('\n  ')}`);
}
