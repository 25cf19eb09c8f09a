import { RUNBOOKS } from '../../../../slo/prometheus';

/**
 * The sentence an alarm's description ends with: where its runbook section is. The section's
 * heading is the alarm's id, so the link is GitHub's anchor of it (test/runbooks.test.ts).
 */
export const runbookLink = (alarmId: string) => `Runbook: ${RUNBOOKS}#${alarmId.toLowerCase()}`;
