import { describe, expect, it } from 'vitest';
import { imageDigestFromContext, imageTagFromContext } from '../lib/image-tag';

describe('the image tag', () => {
  it('is a full git SHA', () => {
    const sha = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';
    expect(imageTagFromContext(sha)).toBe(sha);
  });

  it.each([
    undefined,
    '',
    'latest',
    'v1.2.3',
    'f00dfee',
    'F00DFEEDF00DFEEDF00DFEEDF00DFEEDF00DFEED',
    42,
  ])('rejects %j with how to pass one', (value) => {
    expect(() => imageTagFromContext(value)).toThrow(
      /imageTag must be the full 40-character git SHA.*-c imageTag=/,
    );
  });
});

describe('the image digest', () => {
  it('is a sha256 digest, or unset for synth and the tests', () => {
    const digest = `sha256:${'f00d'.repeat(16)}`;
    expect(imageDigestFromContext(digest)).toBe(digest);
    expect(imageDigestFromContext(undefined)).toBeUndefined();
  });

  it.each(['', 'latest', `sha256:${'f00d'.repeat(15)}`, `sha512:${'f00d'.repeat(16)}`, 42])(
    'rejects %j with how to pass one',
    (value) => {
      expect(() => imageDigestFromContext(value)).toThrow(
        /imageDigest must be the image's digest.*-c imageDigest=/,
      );
    },
  );
});
