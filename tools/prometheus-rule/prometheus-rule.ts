/**
 * The PrometheusRule (Prometheus Operator) carrying the groups of the plain rules file, so that
 * both deployments alert alike:
 *
 *   npm run alerts:k8s           writes k8s/prometheus-rule.yaml from deploy/prometheus/rules/conflux-alerts.yml
 *   npm run alerts:k8s -- --check exits 1 when k8s/prometheus-rule.yaml differs from what it would write
 *
 * The groups are copied node for node, comments included.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, Document } from 'yaml';

export const RULES_FILE = join('deploy', 'prometheus', 'rules', 'conflux-alerts.yml');
export const PROMETHEUS_RULE_FILE = join('k8s', 'prometheus-rule.yaml');

const HEADER = [
  ` Generated from ${RULES_FILE.split('\\').join('/')} by \`npm run alerts:k8s\`: edit that file, not this one.`,
  ' Prometheus Operator loads PrometheusRules matching its ruleSelector: add the labels yours',
  ' selects on (kube-prometheus-stack: `release: <its release name>`).',
].join('\n');

/** The PrometheusRule manifest, as YAML text, for the text of a plain Prometheus rules file. */
export function prometheusRule(rulesText: string): string {
  const rules = parseDocument(rulesText, { prettyErrors: true });
  if (rules.errors.length > 0) throw new Error(`${RULES_FILE}: ${rules.errors.map((e) => e.message).join('; ')}`);
  const groups: unknown = isMap(rules.contents) ? rules.contents.get('groups', true) : undefined;
  if (!isSeq(groups) || groups.items.length === 0) throw new Error(`${RULES_FILE}: no rule groups`);

  const manifest = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'conflux-alerts',
      namespace: 'conflux',
      labels: { 'app.kubernetes.io/name': 'conflux', 'app.kubernetes.io/component': 'alerts' },
    },
    spec: {},
  });
  manifest.setIn(['spec', 'groups'], groups);
  manifest.commentBefore = HEADER;
  return manifest.toString({ lineWidth: 0 });
}

function main(args: string[]): number {
  const root = process.cwd();
  const expected = prometheusRule(readFileSync(join(root, RULES_FILE), 'utf8'));
  const target = join(root, PROMETHEUS_RULE_FILE);
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // Missing: differs.
    }
    if (current === expected) return 0;
    process.stderr.write(`${PROMETHEUS_RULE_FILE} differs from ${RULES_FILE}: run npm run alerts:k8s\n`);
    return 1;
  }
  writeFileSync(target, expected);
  process.stdout.write(`wrote ${PROMETHEUS_RULE_FILE}\n`);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
