import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Where the dashboards are, and where their ConfigMap goes (repository paths). */
export const DASHBOARDS_DIR = 'deploy/grafana/dashboards';
export const CONFIGMAP_PATH = 'k8s/grafana-dashboards.yaml';

/** The label Grafana's dashboard sidecar (kube-prometheus-stack, the grafana chart) looks for. */
export const SIDECAR_LABEL = { grafana_dashboard: '1' } as const;

/** One dashboard file: its name (the ConfigMap key) and its text. */
export interface DashboardFile {
  name: string;
  text: string;
}

/** The dashboard files of the repository at `root`, sorted by name; none when the directory is absent. */
export function readDashboards(root: string): DashboardFile[] {
  const dir = join(root, DASHBOARDS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * The ConfigMap carrying every dashboard, one key per file with the file's text unchanged, as the
 * YAML written to CONFIGMAP_PATH. Each file must be a JSON object (a dashboard).
 */
export function renderDashboardsConfigMap(dashboards: DashboardFile[]): string {
  for (const dashboard of dashboards) {
    const parsed = JSON.parse(dashboard.text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${DASHBOARDS_DIR}/${dashboard.name} is not a JSON object`);
    }
  }
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'conflux-grafana-dashboards',
      namespace: 'conflux',
      labels: { 'app.kubernetes.io/name': 'conflux', ...SIDECAR_LABEL },
      // The folder the sidecar files them in, where it reads one (sidecar.dashboards.folderAnnotation).
      annotations: { grafana_folder: 'Conflux' },
    },
    data: Object.fromEntries(dashboards.map((d) => [d.name, d.text])),
  };
  const header = [
    `# Generated from ${DASHBOARDS_DIR}/*.json by \`npm run k8s:dashboards\`: do not edit,`,
    '# edit the dashboards and run it again (test/ops/k8s.spec.ts checks they agree).',
    '# Grafana\'s dashboard sidecar loads every ConfigMap labelled grafana_dashboard: "1"',
    '# (see README.md in this directory).',
  ];
  return `${header.join('\n')}\n${stringify(configMap, { lineWidth: 0, blockQuote: 'literal' })}`;
}
