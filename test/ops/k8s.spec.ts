import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import Ajv from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { configEnvKeys, SENSITIVE_CONFIG_KEYS } from '../../src/config/app-config';
import {
  CONFIGMAP_PATH,
  readDashboards,
  renderDashboardsConfigMap,
  SIDECAR_LABEL,
} from '../../tools/k8s-dashboards/dashboards-configmap';
import { startApp, type TestApp } from '../support/app';
import { asRecord, readRepoFile, readYaml, readYamlDocuments, repoFiles, ROOT } from './ops-support';

/**
 * The Kubernetes manifests, checked without a cluster: each against the schema of its kind, the
 * kustomizations against the files, and the settings against the application they run — probe
 * and scrape paths it serves, ports it listens on, configuration keys it reads, Secret keys it gets.
 */

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Built-in kinds, validated against the Kubernetes OpenAPI schemas of kubernetes-models. */
const CORE_KINDS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** A Prometheus duration (5m, 1h30m, 30s ...). */
const DURATION = '^((\\d+y)?(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?|0)$';
const METADATA = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string' } },
};

/** A custom resource whose spec follows `spec` (a JSON schema). */
function crdSchema(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: METADATA, spec },
  };
}

/**
 * The Prometheus Operator's custom kinds: the structure the operator requires (its CRDs'
 * required fields and formats), not every field it accepts.
 */
const CRD_SCHEMAS: Record<string, Record<string, unknown>> = {
  'monitoring.coreos.com/v1/ServiceMonitor': crdSchema({
    type: 'object',
    required: ['selector', 'endpoints'],
    properties: {
      selector: {
        type: 'object',
        properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
      },
      endpoints: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          anyOf: [{ required: ['port'] }, { required: ['targetPort'] }],
          properties: {
            port: { type: 'string' },
            path: { type: 'string', pattern: '^/' },
            scheme: { enum: ['http', 'https'] },
            interval: { type: 'string', pattern: DURATION },
            scrapeTimeout: { type: 'string', pattern: DURATION },
          },
        },
      },
    },
  }),
  'monitoring.coreos.com/v1/PrometheusRule': crdSchema({
    type: 'object',
    required: ['groups'],
    properties: {
      groups: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['name', 'rules'],
          properties: {
            name: { type: 'string', minLength: 1 },
            interval: { type: 'string', pattern: DURATION },
            rules: {
              type: 'array',
              items: {
                type: 'object',
                required: ['expr'],
                oneOf: [{ required: ['alert'] }, { required: ['record'] }],
                properties: {
                  alert: { type: 'string', minLength: 1 },
                  record: { type: 'string', minLength: 1 },
                  expr: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer' }] },
                  for: { type: 'string', pattern: DURATION },
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  annotations: { type: 'object', additionalProperties: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  }),
};

/** The kustomizations of k8s/ (the app, and the migrations Job applied on its own). */
const KUSTOMIZATIONS = ['k8s/kustomization.yaml', 'k8s/migrate/kustomization.yaml'];

interface Kustomization {
  namespace?: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

/** Every manifest file of k8s/: the kustomizations' resources, and the Secret example. */
function manifestFiles(): string[] {
  const listed = KUSTOMIZATIONS.flatMap((file) =>
    readYaml<Kustomization>(file).resources.map((resource) => posix.join(posix.dirname(file), resource)),
  );
  return [...listed, 'k8s/secret.example.yaml'].filter((file) => existsSync(join(ROOT, file)));
}

const manifests: (Manifest & { file: string })[] = manifestFiles().flatMap((file) =>
  readYamlDocuments(file).map((doc) => ({ ...(doc as Manifest), file })),
);

function one(kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

const deployment = new Deployment(one('Deployment'));
const podSpec = deployment.spec?.template.spec as IPodSpec;
const container = podSpec.containers[0];
const job = new Job(one('Job'));
const jobContainer = job.spec?.template.spec?.containers[0] as IContainer;
const configMap = one('ConfigMap', 'conflux-config') as Manifest & { data: Record<string, string> };
const secret = one('Secret', 'conflux-secrets') as Manifest & { stringData?: Record<string, string> };
const service = new Service(one('Service'));

/** The HTTP GET probes of a container: [kind, path, port]. */
function probesOf(c: IContainer): [string, string, string | number][] {
  return (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).flatMap((kind) => {
    const get = c[kind]?.httpGet;
    return get ? [[kind, get.path ?? '/', get.port] as [string, string, string | number]] : [];
  });
}

/** A container port by name or number. */
function containerPort(c: IContainer, port: string | number): number | undefined {
  return c.ports?.find((p) => p.name === port || p.containerPort === port)?.containerPort;
}

describe('Kubernetes manifests', () => {
  it('are each valid against the schema of their kind', () => {
    const problems: string[] = [];
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const manifest of manifests) {
      const type = `${manifest.apiVersion}/${manifest.kind}`;
      const where = `${manifest.file}: ${type} ${manifest.metadata?.name}`;
      const { file: _file, ...body } = manifest;
      try {
        if (CORE_KINDS[type]) new CORE_KINDS[type](body as never).validate();
        else if (CRD_SCHEMAS[type]) {
          const validate = ajv.compile(CRD_SCHEMAS[type]);
          if (!validate(body)) problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
        } else problems.push(`${where}: no schema for this kind in test/ops/k8s.spec.ts`);
      } catch (error) {
        problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('live in the conflux namespace, and every manifest of k8s/ is in a kustomization', () => {
    for (const manifest of manifests.filter((m) => m.kind !== 'Namespace')) {
      expect(`${manifest.file}: ${manifest.metadata.namespace}`).toBe(`${manifest.file}: conflux`);
    }
    const listed = new Set(manifestFiles());
    const onDisk = [...repoFiles('k8s', ['.yaml', '.yml']), ...repoFiles('k8s/migrate', ['.yaml', '.yml'])].filter(
      (f) => !f.endsWith('kustomization.yaml'),
    );
    expect(onDisk.filter((f) => !listed.has(f))).toEqual([]);
  });

  it("list only existing files, and the migrations Job runs the app's image", () => {
    for (const file of KUSTOMIZATIONS) {
      const { resources, namespace } = readYaml<Kustomization>(file);
      expect(namespace).toBe('conflux');
      const missing = resources.filter((r) => !existsSync(join(ROOT, posix.dirname(file), r)));
      expect(`${file}: missing ${missing.join(', ')}`).toBe(`${file}: missing `);
    }
    const [app, migrate] = KUSTOMIZATIONS.map((file) => readYaml<Kustomization>(file).images);
    expect(migrate).toEqual(app);
    expect(jobContainer.image).toBe(container.image);
  });
});

describe('the Deployment against the application', () => {
  let served: TestApp;

  beforeAll(async () => {
    served = await startApp();
  });
  afterAll(async () => {
    await served?.close();
  });

  it('probes and scrapes paths the application serves (200), on the port it listens on', async () => {
    const probes = probesOf(container);
    expect(probes.map(([kind, path]) => `${kind} ${path}`)).toEqual([
      'startupProbe /health/live',
      'livenessProbe /health/live',
      'readinessProbe /health/ready',
    ]);
    const annotations = deployment.spec?.template.metadata?.annotations ?? {};
    const serviceMonitor = one('ServiceMonitor') as Manifest & { spec: { endpoints: { path?: string }[] } };
    const paths = [
      ...probes.map(([, path]) => path),
      annotations['prometheus.io/path'],
      ...serviceMonitor.spec.endpoints.map((e) => e.path ?? '/metrics'),
    ];
    for (const path of new Set(paths)) {
      const response = await fetch(`${served.url}${path}`, { signal: AbortSignal.timeout(10_000) });
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
    }
    const port = Number(configMap.data.PORT ?? served.config.PORT);
    for (const [kind, , probePort] of probes)
      expect(`${kind} ${containerPort(container, probePort)}`).toBe(`${kind} ${port}`);
    expect(Number(annotations['prometheus.io/port'])).toBe(port);
  });
});

describe('settings and secrets', () => {
  const known = new Set(configEnvKeys());
  /** Variables read by Node itself rather than by the configuration. */
  const runtime = new Set(['NODE_OPTIONS']);

  it('the ConfigMap, the Secret and the Deployment set only configuration keys', () => {
    const keys = [
      ...Object.keys(configMap.data).map((k) => `configmap ${k}`),
      ...Object.keys({ ...secret.stringData, ...(secret.data as object) }).map((k) => `secret ${k}`),
      ...[container, jobContainer].flatMap((c) => (c.env ?? []).map((e) => `${c.name} env ${e.name}`)),
    ];
    const unknown = keys.filter((entry) => {
      const key = entry.split(' ').pop() ?? '';
      return !known.has(key) && !runtime.has(key);
    });
    expect(unknown).toEqual([]);
  });

  it('the ConfigMap holds no secret setting, and the Secret only secret ones', () => {
    expect(Object.keys(configMap.data).filter((k) => SENSITIVE_CONFIG_KEYS.has(k))).toEqual([]);
    expect(Object.keys(secret.stringData ?? {}).filter((k) => !SENSITIVE_CONFIG_KEYS.has(k))).toEqual([]);
  });

  it('every Secret and ConfigMap the pods read is the example Secret or the ConfigMap, with the keys read', () => {
    for (const c of [container, jobContainer]) {
      const sources = (c.envFrom ?? []).map((s) => s.configMapRef?.name ?? `secret:${s.secretRef?.name}`);
      expect(sources).toEqual(['conflux-config', 'secret:conflux-secrets']);
      for (const env of c.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (ref) expect(`${ref.name}/${ref.key} in example`).toBe(`conflux-secrets/${ref.key} in example`);
        if (ref) expect(Object.keys(secret.stringData ?? {})).toContain(ref.key);
        const cmRef = env.valueFrom?.configMapKeyRef;
        if (cmRef) expect(Object.keys(configMap.data)).toContain(cmRef.key);
      }
    }
    // What production requires (cross-field rules of the configuration) comes from the Secret.
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(
      ['ADMIN_PASSWORD', 'DATABASE_URL', 'JWT_SECRET', 'REDIS_URL'].sort(),
    );
  });
});

describe('monitoring and network', () => {
  const pods = deployment.spec?.template.metadata?.labels ?? {};

  it('the ServiceMonitor selects the Service, on one of its named ports', () => {
    const monitor = one('ServiceMonitor') as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port?: string }[] };
    };
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const names = service.spec?.ports?.map((p) => p.name);
    for (const endpoint of monitor.spec.endpoints) expect(names).toContain(endpoint.port);
    const target = service.spec?.ports?.find((p) => p.name === monitor.spec.endpoints[0].port)?.targetPort;
    expect(containerPort(container, target ?? '')).toBe(Number(configMap.data.PORT));
  });

  it('the NetworkPolicy covers the pods of the Deployment and of the Job', () => {
    const policy = new NetworkPolicy(one('NetworkPolicy'));
    const selector = policy.spec?.podSelector.matchLabels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(pods).toMatchObject(selector);
    expect(job.spec?.template.metadata?.labels).toMatchObject(selector);
    expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('lets in the app port only, and out DNS, Postgres, Redis and HTTPS upstreams', () => {
    const policy = new NetworkPolicy(one('NetworkPolicy'));
    const ingressPorts = (policy.spec?.ingress ?? []).flatMap((rule) => rule.ports ?? []);
    expect(ingressPorts.map((p) => containerPort(container, p.port ?? ''))).toEqual([Number(configMap.data.PORT)]);
    const egress = new Set(
      (policy.spec?.egress ?? []).flatMap((rule) => (rule.ports ?? []).map((p) => `${p.protocol}/${p.port}`)),
    );
    const urlPort = (url: string): string => `TCP/${new URL(url).port}`;
    const needed = [
      'UDP/53',
      'TCP/53',
      urlPort(secret.stringData?.DATABASE_URL ?? ''),
      urlPort(secret.stringData?.REDIS_URL ?? ''),
      'TCP/443',
    ];
    expect(needed.filter((p) => !egress.has(p))).toEqual([]);
    // Nothing beyond those: a new upstream port is a deliberate, documented change.
    expect([...egress].filter((p) => !needed.includes(p))).toEqual([]);
  });
});

describe('Grafana dashboards ConfigMap', () => {
  const dashboards = readDashboards(ROOT);

  it(`${CONFIGMAP_PATH} is what npm run k8s:dashboards writes from deploy/grafana/dashboards`, () => {
    const expected = renderDashboardsConfigMap(dashboards);
    const actual = readRepoFile(CONFIGMAP_PATH);
    if (actual !== expected) throw new Error(`${CONFIGMAP_PATH} is stale: run npm run k8s:dashboards`);
  });

  it('carries every dashboard unchanged, with the sidecar label, within the apply size limit', () => {
    const [doc] = readYamlDocuments(CONFIGMAP_PATH);
    const cm = asRecord(doc, CONFIGMAP_PATH) as Manifest & { data?: Record<string, string> };
    expect(cm.metadata.labels).toMatchObject(SIDECAR_LABEL);
    expect(cm.data ?? {}).toEqual(Object.fromEntries(dashboards.map((d) => [d.name, d.text])));
    for (const key of Object.keys(cm.data ?? {})) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    // `kubectl apply` (client side) keeps the whole object in an annotation limited to 256 KiB.
    expect(Buffer.byteLength(readRepoFile(CONFIGMAP_PATH))).toBeLessThan(256 * 1024);
  });
});

describe('PrometheusRule', () => {
  const rulePath = 'k8s/prometheus-rule.yaml';
  const alertsPath = 'deploy/prometheus/rules/conflux-alerts.yml';
  const present = existsSync(join(ROOT, rulePath));

  (present ? it : it.skip)('is in the kustomization', () => {
    expect(readYaml<Kustomization>('k8s/kustomization.yaml').resources).toContain('prometheus-rule.yaml');
  });

  type Groups = { groups: { name: string; rules: { alert?: string; record?: string }[] }[] };
  const names = (groups: Groups['groups']): string[] =>
    groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record ?? '')).sort();

  (present && existsSync(join(ROOT, alertsPath)) ? it : it.skip)(
    'has the rules of the Compose stack (deploy/prometheus/rules/conflux-alerts.yml)',
    () => {
      const rule = readYaml<{ spec: Groups }>(rulePath);
      expect(names(rule.spec.groups)).toEqual(names(readYaml<Groups>(alertsPath).groups));
    },
  );
});
