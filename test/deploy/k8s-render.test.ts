import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateAgainstSchema } from '../helpers/kube-schema.js';
import {
  K8S_DIR,
  kustomize,
  kustomizeAvailable,
  parseYamlDocuments,
  type KubeObject,
} from '../helpers/kustomize.js';

const overlays = ['staging', 'production'];

describe.runIf(kustomizeAvailable)('every overlay', () => {
  it.each(overlays)('%s renders and every object matches its Kubernetes API schema', (name) => {
    const objects = kustomize(join(K8S_DIR, 'overlays', name));
    expect(objects.map(({ kind }) => kind).sort()).toEqual(
      [
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'ExternalSecret',
        'HorizontalPodAutoscaler',
        'Ingress',
        'Ingress',
        'Ingress',
        'Job',
        'Namespace',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
    for (const object of objects) {
      expect(() => validateAgainstSchema(object)).not.toThrow();
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBe(`shipshape-${name}`);
    }
  });

  it('catches what the schema forbids (the check is live)', () => {
    const [deployment] = kustomize(join(K8S_DIR, 'overlays', 'staging')).filter(
      ({ kind }) => kind === 'Deployment',
    );
    const broken = structuredClone(deployment) as KubeObject & {
      spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    const [container] = broken.spec.template.spec.containers;
    if (container?.ports[0]) container.ports[0].containerPort = 'three thousand';
    expect(() => validateAgainstSchema(broken)).toThrow(/containerPort must be integer/);
  });
});

/** Every container image of every pod template in the rendered objects. */
function imagesOf(objects: KubeObject[]): string[] {
  return objects.flatMap((object) => {
    const spec = object.spec as
      | { template?: { spec?: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } }
      | undefined;
    const pod = spec?.template?.spec ?? spec?.jobTemplate?.spec.template.spec;
    return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map(({ image }) => image);
  });
}
interface PodSpec {
  containers: { image: string }[];
  initContainers?: { image: string }[];
}
const byDigest = /^[\w./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$/;

describe('the image every overlay runs', () => {
  const all = readdirSync(join(K8S_DIR, 'overlays'));

  it('is pinned by digest in each kustomization, whatever tag it also names', () => {
    expect(all.sort()).toEqual([...overlays].sort());
    for (const name of all) {
      const kustomization = parse(
        readFileSync(join(K8S_DIR, 'overlays', name, 'kustomization.yaml'), 'utf8'),
      ) as { images?: { name: string; digest?: string }[] };
      expect(
        kustomization.images?.map((image) => image.name),
        name,
      ).toEqual(['shipshape']);
      for (const image of kustomization.images ?? []) {
        expect(image.digest, name).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
    }
  });

  it.runIf(kustomizeAvailable).each(all)('%s renders every container by digest', (name) => {
    const images = imagesOf(kustomize(join(K8S_DIR, 'overlays', name)));
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toMatch(byDigest);
  });

  it('tells a digest from a tag (the check is live)', () => {
    expect('ghcr.io/shipshape-dev/shipshape:7b1a12890bc9bfa87cef5859175129573abf0d71').not.toMatch(
      byDigest,
    );
    expect(`ghcr.io/shipshape-dev/shipshape@sha256:${'0'.repeat(63)}`).not.toMatch(byDigest);
    expect(`ghcr.io/shipshape-dev/shipshape:1@sha256:${'0'.repeat(64)}`).toMatch(byDigest);
  });
});

describe('the Argo CD applications', () => {
  const applications = readdirSync(join(K8S_DIR, 'argocd')).map((file) => ({
    file,
    objects: parseYamlDocuments(readFileSync(join(K8S_DIR, 'argocd', file), 'utf8')),
  }));

  it('match the Argo CD schema and each points at its own overlay', () => {
    expect(applications.map(({ file }) => file).sort()).toEqual([
      'production.yaml',
      'staging.yaml',
    ]);
    for (const { file, objects } of applications) {
      const [application] = objects;
      if (application === undefined) throw new Error(`${file} is empty`);
      validateAgainstSchema(application);
      const name = file.replace('.yaml', '');
      expect(application).toMatchObject({
        kind: 'Application',
        spec: {
          source: { path: `deploy/k8s/overlays/${name}`, targetRevision: 'main' },
          destination: { namespace: `shipshape-${name}` },
        },
      });
    }
  });

  it('sync staging by themselves and production only when the pipeline says so', () => {
    const policyOf = (name: string) => {
      const application = applications.find(({ file }) => file === `${name}.yaml`)?.objects[0];
      return (application?.spec as { syncPolicy: { automated?: object } } | undefined)?.syncPolicy;
    };
    expect(policyOf('staging')?.automated).toEqual({ prune: true, selfHeal: true });
    expect(policyOf('production')?.automated).toBeUndefined();
  });
});
