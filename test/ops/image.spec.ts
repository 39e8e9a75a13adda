import { readRepoFile } from './ops-support';

/**
 * The image's Node and the versions the project says it runs on agree: package.json's engines
 * admit both the oldest Node 20 CI tests and the image's Node 24, and CI runs the start-up and
 * gateway suites on the image's major version.
 */

const pkg = JSON.parse(readRepoFile('package.json')) as { engines: { node: string } };

describe('the image and the engines', () => {
  const imageArg = /^ARG NODE_IMAGE=(\S+)$/m.exec(readRepoFile('Dockerfile'))?.[1];

  it('builds on node:24-bookworm-slim', () => {
    expect(imageArg).toBe('node:24-bookworm-slim');
  });

  it("package.json's engines admit Node 20.19 and every later release, the image's Node 24 included", () => {
    // A lower bound alone: no upper bound or || that would leave Node 24 out.
    expect(pkg.engines.node).toBe('>=20.19.0');
  });

  it("CI runs the start-up and gateway suites on the image's major version", () => {
    const major = /^node:(\d+)-/.exec(imageArg ?? '')?.[1];
    const ci = readRepoFile('.ci/run');
    expect(ci).toContain(`"$node24_package@${major}.x"`);
    expect(ci).toMatch(/"\$node24" node_modules\/\.bin\/jest .*\\\n\s+test\/startup\.e2e-spec\.ts test\/gateway\//);
  });
});
