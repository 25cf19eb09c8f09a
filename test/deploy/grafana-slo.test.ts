import { describe, expect, it } from 'vitest';
import {
  BURN_RATE_ALERTS,
  JOURNEYS,
  OBJECTIVES,
  SLO_PERIOD_DAYS,
  errorBudget,
} from '../../slo/objectives.js';
import { decimal } from '../../slo/prometheus.js';
import { panelsOf, readDashboard, recordedSeries, type Panel } from '../helpers/grafana.js';

// The committed file, not the generator's output: an objective added without `npm run slo`
// has no panels here.
const dashboard = readDashboard('shipshape-slo.json');
const panels = panelsOf(dashboard);
const exprs = (panel: Panel) => (panel.targets ?? []).map((target) => target.expr);
const thresholds = (panel: Panel) =>
  panel.fieldConfig?.defaults.thresholds?.steps.map(({ color, value }) => [color, value]);

describe('the SLO dashboard', () => {
  it('is "shipshape SLOs" under a stable uid, on the Prometheus data source', () => {
    expect(dashboard).toMatchObject({ uid: 'shipshape-slo', title: 'shipshape SLOs' });
    for (const panel of panels.filter(({ type }) => type !== 'row'))
      for (const target of panel.targets ?? [])
        expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: 'prometheus' });
  });

  it('has a row per journey, in the order of the objectives', () => {
    const journeys = [...new Set(OBJECTIVES.map((objective) => objective.journey))];
    expect(panels.filter(({ type }) => type === 'row').map(({ title }) => title)).toEqual(
      journeys.map((journey) => JOURNEYS[journey]),
    );
  });

  it('picks a namespace among those the SLO rules record, all of them by default', () => {
    const [variable] = dashboard.templating.list;
    expect(dashboard.templating.list).toHaveLength(1);
    expect(variable).toMatchObject({ name: 'namespace', allValue: '.*' });
    const metric = /^label_values\(([^,]+), namespace\)$/.exec(variable?.query ?? '')?.[1];
    expect(recordedSeries()).toContain(metric);
  });

  it('lays the panels out on the grid without overlap', () => {
    const cells = new Set<string>();
    for (const { title, gridPos } of panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells, `${title} overlaps at ${x},${y}`).not.toContain(`${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
  });
});

describe.each(OBJECTIVES)('the SLO dashboard, for $name', (objective) => {
  const of = `{slo="${objective.name}", namespace=~"$namespace"}`;
  const budget = decimal(errorBudget(objective));
  const reading = (type: string, ...series: string[]) =>
    panels.filter(
      (panel) =>
        panel.type === type && series.every((expr) => exprs(panel).some((e) => e.includes(expr))),
    );

  it(`shows the SLI over ${SLO_PERIOD_DAYS} days, red below its target`, () => {
    const [sli] = reading('stat', `slo:sli_error:ratio_rate${SLO_PERIOD_DAYS}d${of}`);
    expect(sli && exprs(sli)).toEqual([`1 - slo:sli_error:ratio_rate${SLO_PERIOD_DAYS}d${of}`]);
    expect(sli?.title).toContain(`target ${decimal(100 * objective.target)}%`);
    expect(sli && thresholds(sli)).toEqual([
      ['red', null],
      ['green', objective.target],
    ]);
  });

  it('shows the error budget left, now and over time', () => {
    for (const type of ['stat', 'timeseries']) {
      const [left] = reading(type, `slo:error_budget_remaining:ratio${of}`);
      expect(left && exprs(left), type).toEqual([`slo:error_budget_remaining:ratio${of}`]);
      expect(left?.fieldConfig?.defaults.unit, type).toBe('percentunit');
    }
  });

  it('shows all and bad events of the SLI', () => {
    const [events] = reading('timeseries', `slo:events:rate5m${of}`);
    expect(events && exprs(events)).toEqual([
      `slo:events:rate5m${of}`,
      `slo:bad_events:rate5m${of}`,
    ]);
  });

  it.each(BURN_RATE_ALERTS)(
    'shows the $longWindow and $shortWindow burn rates against the $burnRate x threshold',
    (alert) => {
      const rate = (window: string) => `slo:sli_error:ratio_rate${window}${of} / ${budget}`;
      const found = reading('timeseries', rate(alert.longWindow), rate(alert.shortWindow));
      expect(found).toHaveLength(1);
      const [panel] = found;
      expect(panel && exprs(panel)).toEqual([rate(alert.longWindow), rate(alert.shortWindow)]);
      expect(panel && thresholds(panel)).toEqual([
        ['green', null],
        ['red', alert.burnRate],
      ]);
      // Drawn on the graph, not only colouring the lines.
      expect(panel?.fieldConfig?.defaults.custom?.thresholdsStyle?.mode).toBe('dashed');
    },
  );
});
