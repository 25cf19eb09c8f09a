import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { K8S_DIR, kustomize, kustomizeAvailable, type KubeObject } from '../helpers/kustomize.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   rendered YAML has no static type; each assertion checks the shape it reads, and the
   schema test (k8s-render.test.ts) checks the whole object. */
type Any = any;

const environments = [
  { name: 'staging', replicas: 2, maxReplicas: 4 },
  { name: 'production', replicas: 3, maxReplicas: 12 },
];

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe.runIf(kustomizeAvailable).each(environments)('$name overlay', (environment) => {
  const objects = kustomize(join(K8S_DIR, 'overlays', environment.name));
  const one = (kind: string, name?: string): Any => {
    const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
    if (found.length !== 1)
      throw new Error(`expected one ${kind} ${name ?? ''}, got ${found.length}`);
    return found[0];
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template;
  const [app] = pod.spec.containers;
  const job = one('Job');
  // The generated settings, whose name ends in a content hash; the other is the dashboards'.
  const settings = objects.find(
    ({ kind, metadata }) => kind === 'ConfigMap' && metadata.name.startsWith('shipshape-config-'),
  ) as Any;
  const config = settings.data as Record<string, string>;

  it(`runs ${environment.replicas} replicas, rolling one new pod in before an old one leaves`, () => {
    expect(deployment.spec.replicas).toBe(environment.replicas);
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it("selects its own pods, never the migration Job's, which share its name labels", () => {
    const selector = deployment.spec.selector.matchLabels as Record<string, string>;
    expect(matches(selector, pod.metadata.labels)).toBe(true);
    expect(matches(selector, job.spec.template.metadata.labels)).toBe(false);
  });

  it('probes readiness on /readyz, liveness on /healthz, and gives start-up its own probe', () => {
    expect(app.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(app.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(
      app.startupProbe.periodSeconds * app.startupProbe.failureThreshold,
    ).toBeGreaterThanOrEqual(60);
  });

  it("pauses before SIGTERM and gives the app's drain and close time to finish", () => {
    const pause = app.lifecycle.preStop.sleep.seconds as number;
    const drain = Number(config.SHUTDOWN_DRAIN_MS) / 1000;
    const close = Number(config.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect([pause, drain, close]).toEqual([5, 5, 10]);
    expect(pod.spec.terminationGracePeriodSeconds).toBe(30);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(pause + drain + close);
  });

  it('sets requests and limits, and runs hardened: non-root, read-only, no capabilities, no token', () => {
    for (const container of [app, job.spec.template.spec.containers[0]]) {
      expect(container.resources.requests).toEqual({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(container.resources.limits).toEqual({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
    for (const spec of [pod.spec, job.spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.serviceAccountName).toBe('shipshape');
    }
    expect(one('ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(one('Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    );
  });

  it('spreads pods over zones, then nodes, counting only its own revision', () => {
    const constraints = pod.spec.topologySpreadConstraints as Any[];
    expect(constraints.map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
      ['topology.kubernetes.io/zone', 'DoNotSchedule'],
      ['kubernetes.io/hostname', 'ScheduleAnyway'],
    ]);
    for (const constraint of constraints) {
      expect(matches(constraint.labelSelector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(constraint.matchLabelKeys).toEqual(['pod-template-hash']);
    }
  });

  it('runs the image of one git SHA by digest, the same for the service and the migration', () => {
    expect(app.image).toMatch(/^ghcr\.io\/[\w-]+\/shipshape:[0-9a-f]{40}@sha256:[0-9a-f]{64}$/);
    expect(job.spec.template.spec.containers[0].image).toBe(app.image);
    expect(JSON.stringify(objects)).not.toMatch(/:latest\b/);
  });

  it('takes settings from the ConfigMap and every secret from the Secret, never inline', () => {
    expect(app.envFrom).toEqual([{ configMapRef: { name: settings.metadata.name } }]);
    for (const variable of app.env as Any[]) {
      expect(variable.value).toBeUndefined();
      expect(variable.valueFrom.secretKeyRef.name).toBe('shipshape');
    }
    expect((app.env as Any[]).map((v) => v.name).sort()).toEqual(
      ['ADMIN_TOKEN', 'DATABASE_PASSWORD', 'DATABASE_URL', 'REDIS_PASSWORD', 'REDIS_URL'].sort(),
    );
    expect(Object.keys(config).filter((key) => /PASSWORD|TOKEN|SECRET|_URL$/.test(key))).toEqual(
      [],
    );
    expect(one('ExternalSecret').spec).toMatchObject({
      target: { name: 'shipshape' },
      secretStoreRef: { kind: 'ClusterSecretStore' },
      dataFrom: [{ extract: { key: `shipshape/${environment.name}` } }],
    });
  });

  it('migrates in a Job that Argo CD runs after config and secret, before the Deployment', () => {
    expect(job.spec.template.spec.containers[0].command).toEqual(['node', 'dist/migrate.js']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.metadata.annotations).toEqual({
      'argocd.argoproj.io/hook': 'Sync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '-1',
    });
    const wave = (object: KubeObject) =>
      Number(object.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
    for (const before of [settings, one('ServiceAccount'), one('ExternalSecret')])
      expect(wave(before)).toBeLessThan(wave(job));
    expect(wave(deployment)).toBeGreaterThan(wave(job));
  });

  it('gives a migration statement its own timeout, which PostgreSQL enforces before the Job dies', () => {
    const env = job.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    const timeoutMs = Number(env.find((e) => e.name === 'MIGRATION_STATEMENT_TIMEOUT_MS')?.value);
    // Longer than a pod's start-up allows (the default, 10 minutes), shorter than the deadline.
    expect(timeoutMs).toBeGreaterThan(600_000);
    expect(timeoutMs).toBeLessThan(Number(job.spec.activeDeadlineSeconds) * 1000);
  });

  it("routes the Service to the service's pods only, not the migration's", () => {
    const selector = one('Service').spec.selector as Record<string, string>;
    expect(matches(selector, pod.metadata.labels)).toBe(true);
    expect(matches(selector, job.spec.template.metadata.labels)).toBe(false);
    expect(one('Service').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
  });

  it('serves HTTPS through ingress-nginx with a cert-manager certificate', () => {
    const ingress = one('Ingress', 'shipshape');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBeTruthy();
    const [rule] = ingress.spec.rules;
    expect(ingress.spec.tls).toEqual([{ hosts: [rule.host], secretName: 'shipshape-tls' }]);
    expect(rule.host).toMatch(environment.name === 'production' ? /^shipshape\./ : /^staging\./);
  });

  it('refuses /metrics and /admin at the ingress, for the same host', () => {
    const internal = one('Ingress', 'shipshape-internal-paths');
    expect(internal.metadata.annotations['nginx.ingress.kubernetes.io/denylist-source-range']).toBe(
      '0.0.0.0/0,::/0',
    );
    expect(internal.spec.rules[0].host).toBe(one('Ingress', 'shipshape').spec.rules[0].host);
    expect(internal.spec.rules[0].http.paths.map((path: Any) => path.path)).toEqual([
      '/metrics',
      '/admin',
    ]);
  });

  it(`scales from ${environment.replicas} to ${environment.maxReplicas} pods on CPU`, () => {
    const autoscaler = one('HorizontalPodAutoscaler');
    expect(autoscaler.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'shipshape',
    });
    expect([autoscaler.spec.minReplicas, autoscaler.spec.maxReplicas]).toEqual([
      environment.replicas,
      environment.maxReplicas,
    ]);
    expect(autoscaler.spec.metrics[0].resource).toEqual({
      name: 'cpu',
      target: { type: 'Utilization', averageUtilization: 60 },
    });
  });

  it('lets node drains take one service pod at a time', () => {
    const budget = one('PodDisruptionBudget');
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(matches(budget.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    expect(matches(budget.spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(
      false,
    );
  });

  it('lets in only the ingress controller and Prometheus, out only DNS, the databases and traces', () => {
    const policy = one('NetworkPolicy');
    for (const labels of [pod.metadata.labels, job.spec.template.metadata.labels])
      expect(matches(policy.spec.podSelector.matchLabels, labels)).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const [ingress] = policy.spec.ingress;
    expect(policy.spec.ingress).toHaveLength(1);
    expect(ingress.ports).toEqual([{ port: 3000, protocol: 'TCP' }]);
    // A peer names a namespace and the pods in it (`*`: any pod of the namespace).
    const peer = (p: Any) =>
      `${p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}/${
        p.podSelector
          ? Object.entries(p.podSelector.matchLabels as Record<string, string>)
              .map(([key, value]) => `${key}=${value}`)
              .join(',')
          : '*'
      }`;
    expect(ingress.from.map(peer)).toEqual([
      'ingress-nginx/app.kubernetes.io/name=ingress-nginx',
      'monitoring/app.kubernetes.io/name=prometheus',
    ]);
    const egress = (policy.spec.egress as Any[]).map((rule) => ({
      to: rule.to.map((p: Any) => (p.ipBlock ? `ipBlock ${p.ipBlock.cidr}` : peer(p))),
      ports: rule.ports.map((p: Any) => `${p.protocol}/${p.port}`).sort(),
    }));
    expect(egress).toEqual([
      { to: ['kube-system/k8s-app=kube-dns'], ports: ['TCP/53', 'UDP/53'] },
      // The managed databases outside the cluster, in the private network only.
      { to: ['ipBlock 10.0.0.0/8'], ports: ['TCP/5432', 'TCP/6379'] },
      // OTLP over HTTP to the trace collector, whatever its pods' labels.
      { to: ['observability/*'], ports: ['TCP/4318'] },
    ]);
  });

  it('is scraped by Prometheus Operator from the Service', () => {
    const monitor = one('ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, one('Service').metadata.labels)).toBe(true);
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
  });
});

describe.runIf(kustomizeAvailable)('the IRSA slot', () => {
  const overlay = mkdtempSync(join(tmpdir(), 'shipshape-irsa-'));
  afterAll(() => rmSync(overlay, { recursive: true, force: true }));

  it('annotates the service account when an overlay adds the example patch', () => {
    cpSync(join(K8S_DIR, 'base'), join(overlay, 'base'), { recursive: true });
    cpSync(join(K8S_DIR, 'examples', 'irsa-patch.yaml'), join(overlay, 'irsa-patch.yaml'));
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      'resources: [base]\npatches:\n  - path: irsa-patch.yaml\n',
    );
    const account = kustomize(overlay).find(({ kind }) => kind === 'ServiceAccount');
    expect(account?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::\d{12}:role\//,
    );
    expect((account as Any).automountServiceAccountToken).toBe(false);
  });
});
