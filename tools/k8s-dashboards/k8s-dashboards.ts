/**
 * Writes k8s/grafana-dashboards.yaml, the ConfigMap of the Grafana dashboards of
 * deploy/grafana/dashboards, from the repository root (the directory npm runs scripts in):
 *
 *   npm run k8s:dashboards
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGMAP_PATH, readDashboards, renderDashboardsConfigMap } from './dashboards-configmap';

const root = process.cwd();
const dashboards = readDashboards(root);
writeFileSync(join(root, CONFIGMAP_PATH), renderDashboardsConfigMap(dashboards));
process.stdout.write(`${CONFIGMAP_PATH}: ${dashboards.length} dashboard(s)\n`);
