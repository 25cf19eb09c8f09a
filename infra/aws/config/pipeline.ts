import type { PipelineConfig } from './types';

/** Where the shared image repository lives and which GitHub repository may deploy. */
export const pipeline: PipelineConfig = {
  githubOwner: 'shipshape-dev',
  githubRepository: 'shipshape',
  region: 'eu-west-1',
};
