import * as argoCd from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import * as externalSecrets from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import type { KubeObject } from './kustomize.js';

type Model = new (data: object) => { validate(): void };

/** The JSON schema of each API group/version the manifests use, from kubernetes-models. */
const schemas: Record<string, { models: Record<string, unknown>; checkedAs?: string }> = {
  v1: { models: core },
  'apps/v1': { models: apps },
  'batch/v1': { models: batch },
  'policy/v1': { models: policy },
  'autoscaling/v2': { models: autoscaling },
  'networking.k8s.io/v1': { models: networking },
  'monitoring.coreos.com/v1': { models: monitoring },
  'argoproj.io/v1alpha1': { models: argoCd },
  // External Secrets' v1 API kept v1beta1's ExternalSecret spec unchanged; the models package
  // ships v1beta1 only, so v1 objects are checked against that schema.
  'external-secrets.io/v1': {
    models: externalSecrets,
    checkedAs: 'external-secrets.io/v1beta1',
  },
};

/** Throws, naming the object and the field, unless it matches its API schema. */
export function validateAgainstSchema(object: KubeObject): void {
  const schema = schemas[object.apiVersion];
  const model = schema?.models[object.kind] as Model | undefined;
  const name = `${object.apiVersion} ${object.kind} ${object.metadata.name}`;
  if (schema === undefined || model === undefined) throw new Error(`no schema for ${name}`);
  try {
    new model({ ...object, apiVersion: schema.checkedAs ?? object.apiVersion }).validate();
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
}
