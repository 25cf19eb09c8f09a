import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The Kubernetes manifests: deploy/k8s/{base,overlays/<name>,argocd,examples}. */
export const K8S_DIR = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url));

/** A rendered Kubernetes object, loosely typed: tests read what they assert. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

function kustomizeVersion(): string | undefined {
  const result = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return result.status === 0 ? /Kustomize Version: (v[\d.]+)/.exec(result.stdout)?.[1] : undefined;
}

/** The kustomize inside kubectl; the manifests use its v5 fields (`labels`, `patches`). */
export const KUSTOMIZE_VERSION = kustomizeVersion();
export const kustomizeAvailable =
  KUSTOMIZE_VERSION !== undefined && Number(/^v(\d+)/.exec(KUSTOMIZE_VERSION)?.[1]) >= 5;
if (!kustomizeAvailable) {
  const found = KUSTOMIZE_VERSION ?? 'no kubectl';
  if (process.env.CI) throw new Error(`CI needs kubectl with kustomize v5 or later (${found})`);
  console.warn(`\n*** SKIPPING Kubernetes tests: need kubectl with kustomize v5 (${found}). ***\n`);
}

/** Renders a kustomization directory with `kubectl kustomize`; fails loudly on any warning. */
export function kustomize(directory: string): KubeObject[] {
  const result = spawnSync('kubectl', ['kustomize', directory], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${directory}: ${result.stderr}`);
  // Deprecated fields print warnings as comments; the manifests must have none.
  const warnings = result.stdout.split('\n').filter((line) => line.startsWith('# Warning'));
  if (warnings.length > 0) throw new Error(warnings.join('\n'));
  return parseYamlDocuments(result.stdout);
}

/** Every document of a multi-document YAML text. */
export function parseYamlDocuments(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}
