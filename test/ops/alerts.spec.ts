import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMETHEUS_RULE_FILE, RULES_FILE, prometheusRule } from '../../tools/prometheus-rule/prometheus-rule';
import { findExecutable } from '../support/services';

const ROOT = join(__dirname, '..', '..');
const RULES_DIR = join(ROOT, 'deploy', 'prometheus', 'rules');
/** Beside the rules folder, which Prometheus loads whole: a test file there would be read as rules. */
const TESTS_DIR = join(ROOT, 'deploy', 'prometheus', 'tests');
const TESTS_FILE = join(TESTS_DIR, 'conflux-alerts.test.yml');

/** Debian's `prometheus` package puts promtool in /usr/bin. */
const promtool = findExecutable('promtool', ['/usr/bin']);
if (!promtool && !process.env.CI) {
  console.warn(
    'test/ops/alerts.spec.ts: the promtool checks are skipped, promtool is missing ' +
      '(apt-get install -y prometheus); under CI they fail instead.',
  );
}
const testWithPromtool = promtool || process.env.CI ? test : test.skip;

/** promtool's exit code and everything it printed (shown by jest when the code is not 0). */
function runPromtool(...args: string[]): { exitCode: number | null; output: string } {
  if (!promtool) throw new Error('promtool is missing: install the Debian package prometheus');
  const run = spawnSync(promtool, args, { cwd: RULES_DIR, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
  return { exitCode: run.status, output };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}

const rulesText = readFileSync(join(ROOT, RULES_FILE), 'utf8');
const groups = (parse(rulesText) as { groups: { name: string; rules: Rule[] }[] }).groups;
const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);

describe('alert rules', () => {
  testWithPromtool('promtool check rules accepts the rules file', () => {
    const result = runPromtool('check', 'rules', 'conflux-alerts.yml');
    expect(result).toEqual({ exitCode: 0, output: expect.stringContaining('SUCCESS') });
  });

  testWithPromtool('promtool test rules passes every unit test', () => {
    const result = runPromtool('test', 'rules', TESTS_FILE);
    expect(result).toEqual({ exitCode: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('every alert has a severity, a summary, a description and a runbook hint', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const rule of alerts) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
      expect({ alert: rule.alert, annotations: Object.keys(rule.annotations ?? {}).sort() }).toEqual({
        alert: rule.alert,
        annotations: ['description', 'runbook', 'summary'],
      });
    }
  });

  test('every alert is unit-tested firing and not firing', () => {
    const cases = (
      parse(readFileSync(TESTS_FILE, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }
    ).tests.flatMap((unit) => unit.alert_rule_test ?? []);
    const untested = alerts
      .map((rule) => rule.alert as string)
      .flatMap((name) => {
        const mine = cases.filter((c) => c.alertname === name);
        const firing = mine.some((c) => (c.exp_alerts ?? []).length > 0);
        const silent = mine.some((c) => (c.exp_alerts ?? []).length === 0);
        return [...(firing ? [] : [`${name} never firing`]), ...(silent ? [] : [`${name} never silent`])];
      });
    expect(untested).toEqual([]);
  });

  test('the README lists every alert in its Alerts section', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /^### Alerts$([\s\S]*?)^##? /m.exec(readme)?.[1] ?? '';
    expect(alerts.map((rule) => rule.alert).filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('the PrometheusRule', () => {
  const manifestText = readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8');
  const manifest = parse(manifestText) as { apiVersion: string; kind: string; spec: { groups: unknown } };

  test('is a monitoring.coreos.com/v1 PrometheusRule carrying the groups of the rules file', () => {
    expect(manifest.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(manifest.kind).toBe('PrometheusRule');
    expect(manifest.spec.groups).toEqual(groups);
  });

  test('is exactly what npm run alerts:k8s generates from the rules file', () => {
    expect({ file: PROMETHEUS_RULE_FILE, upToDate: manifestText === prometheusRule(rulesText) }).toEqual({
      file: PROMETHEUS_RULE_FILE,
      upToDate: true,
    });
  });
});
