// Bad deployment documents: every problem is named by its path and reason, and nothing is returned.
import { expect } from 'chai';
import {
  formatDocumentProblems,
  groupRootsAfter,
  missingCapabilities,
  parseDeploymentDocument,
  type DocumentProblem,
} from '../../../src/deployment/index.js';

const ARN = 'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/A:3';

function cloud(
  extra: Record<string, unknown> = {},
  component: Record<string, unknown> = { version: '1.0.0' },
) {
  return {
    deploymentId: 'd1',
    configurationArn: ARN,
    components: { 'com.example.Foo': component },
    ...extra,
  };
}

function problems(input: unknown, opts = {}): DocumentProblem[] {
  const r = parseDeploymentDocument(input, opts);
  if (r.ok) expect.fail('expected a refusal');
  return r.problems;
}

describe('deployment document validation [DP-05..DP-30]', () => {
  it('accepts a minimal cloud document and names the group from the ARN [DP-23]', () => {
    const r = parseDeploymentDocument(JSON.stringify(cloud({ creationTimestamp: 5 })));
    if (!r.ok) expect.fail(JSON.stringify(r.problems));
    expect(r.document.groupName).to.equal('thinggroup/A');
    expect(r.document.configurationArn).to.equal(ARN);
    expect(r.document.timestamp).to.equal(5);
  });

  it('[DP-13] a component without version: components["com.example.Foo"].version: required', () => {
    const p = problems(cloud({}, {}));
    expect(formatDocumentProblems(p)).to.equal('components["com.example.Foo"].version: required');
  });

  it('[DP-13] a version that is not a semantic version is refused with the value', () => {
    const p = problems(cloud({}, { version: '1.0' }));
    expect(p).to.deep.equal([
      {
        path: 'components["com.example.Foo"].version',
        reason: 'must be a semantic version (MAJOR.MINOR.PATCH), got "1.0"',
      },
    ]);
  });

  it('[DP-20] merge given as a JSON string (the control-plane form) is refused in a device document', () => {
    const p = problems(cloud({}, { version: '1.0.0', configurationUpdate: { merge: '{"a":1}' } }));
    expect(p).to.have.length(1);
    expect(p[0].path).to.equal('components["com.example.Foo"].configurationUpdate.merge');
    expect(p[0].reason).to.match(/must be a JSON object; a serialized JSON string is the control-plane/);
  });

  it('[CF-23] reset entries must be JSON pointers; merge and MERGE together are ambiguous', () => {
    const p = problems(
      cloud(
        {},
        { version: '1.0.0', configurationUpdate: { merge: {}, MERGE: {}, reset: ['/ok', 'bad', 3] } },
      ),
    );
    const base = 'components["com.example.Foo"].configurationUpdate';
    expect(p).to.deep.include({
      path: `${base}.MERGE`,
      reason: 'conflicts with "merge": give only one of them',
    });
    expect(p).to.deep.include({
      path: `${base}.reset[1]`,
      reason: 'must be a JSON pointer ("" or starting with "/"), got "bad"',
    });
    expect(p).to.deep.include({ path: `${base}.reset[2]`, reason: 'must be a string, got number 3' });
  });

  it('[DP-15] runWith types and limits are checked', () => {
    const p = problems(
      cloud(
        {},
        { version: '1.0.0', runWith: { posixUser: 7, systemResourceLimits: { memory: -1, cpus: 'x' } } },
      ),
    );
    const base = 'components["com.example.Foo"].runWith';
    expect(p).to.deep.equal([
      { path: `${base}.posixUser`, reason: 'must be a string, got number 7' },
      { path: `${base}.systemResourceLimits.memory`, reason: 'must not be negative, got -1' },
      { path: `${base}.systemResourceLimits.cpus`, reason: 'must be a number, got string "x"' },
    ]);
  });

  it('[DP-16, DP-17] policies outside their enumerations are refused, every problem reported at once', () => {
    const p = problems(
      cloud({ failureHandlingPolicy: 'RETRY', componentUpdatePolicy: { action: 'NOTIFY', timeout: 'soon' } }),
    );
    expect(p.map((x) => x.path)).to.deep.equal([
      'failureHandlingPolicy',
      'componentUpdatePolicy.action',
      'componentUpdatePolicy.timeout',
    ]);
    expect(p[0].reason).to.equal('must be one of ROLLBACK, DO_NOTHING, got "RETRY"');
  });

  it('[DP-05, DP-06] an id and a group are required when the transport supplies none', () => {
    const p = problems({ components: {} });
    expect(p).to.deep.equal([
      { path: 'deploymentId', reason: 'required' },
      {
        path: 'configurationArn',
        reason: 'required to name the deployment group (thinggroup/<name> or thing/<name>)',
      },
    ]);
    const r = parseDeploymentDocument({ components: {} }, { deploymentId: 'job-9', groupName: 'thing/T' });
    expect(r.ok && r.document.deploymentId).to.equal('job-9');
  });

  it('components must be an object of objects', () => {
    expect(problems({ deploymentId: 'd', configurationArn: ARN, components: [] })).to.deep.equal([
      { path: 'components', reason: 'must be an object, got a list' },
    ]);
    expect(problems(cloud({}, 'x' as unknown as Record<string, unknown>))).to.deep.equal([
      { path: 'components["com.example.Foo"]', reason: 'must be an object, got string "x"' },
    ]);
  });

  it('[DP-26] text over the size cap, JSON syntax errors and non-objects are refused', () => {
    expect(problems('{"deploymentId": "x"', {})[0].reason).to.match(/^JSON syntax error: /);
    expect(problems(JSON.stringify(cloud()), { maxBytes: 10 })[0].reason).to.match(/over the 10-byte limit/);
    // a document that arrives parsed (IoT Jobs, local deployments) is held to the same cap
    expect(problems(cloud(), { maxBytes: 10 })[0].reason).to.match(/bytes as JSON, over the 10-byte limit/);
    expect(problems('[1]')[0].reason).to.equal('a deployment document must be a JSON object, got a list');
    expect(problems({ hello: 1 })[0].reason).to.match(/^not a deployment document/);
  });

  it('[DP-30] internal form: Packages entries need Name and ResolvedVersion', () => {
    const p = problems({
      DeploymentId: 'x',
      GroupName: 'thinggroup/G',
      Packages: [{ RootComponent: true }, 'y'],
    });
    expect(p).to.deep.equal([
      { path: 'Packages[0].Name', reason: 'required' },
      { path: 'Packages[0].ResolvedVersion', reason: 'required' },
      { path: 'Packages[1]', reason: 'must be an object, got string "y"' },
    ]);
  });

  it('[DP-30] internal form: a duplicated package and a missing Packages list are refused', () => {
    const pkg = { Name: 'A', ResolvedVersion: '1.0.0', RootComponent: true };
    expect(problems({ DeploymentId: 'x', GroupName: 'g', Packages: [pkg, pkg] })).to.deep.equal([
      { path: 'Packages[1].Name', reason: '"A" is listed more than once' },
    ]);
    expect(problems({ DeploymentId: 'x', GroupName: 'g' })).to.deep.equal([
      { path: 'Packages', reason: 'required' },
    ]);
  });

  it('[IPC-68] local request: bad versions and lists are named by their map entry', () => {
    const p = problems({
      requestId: 'r',
      rootComponentVersionsToAdd: { 'com.example.A': 'latest', 'com.example.B': null },
      rootComponentsToRemove: 'com.example.C',
      componentToRunWithInfo: { 'com.example.A': { posixUser: ['x'] } },
    });
    expect(p).to.deep.equal([
      {
        path: 'rootComponentVersionsToAdd["com.example.A"]',
        reason: 'must be a semantic version (MAJOR.MINOR.PATCH), got "latest"',
      },
      { path: 'rootComponentVersionsToAdd["com.example.B"]', reason: 'required' },
      {
        path: 'rootComponentsToRemove',
        reason: 'must be a list of component names, got string "com.example.C"',
      },
      { path: 'componentToRunWithInfo["com.example.A"].posixUser', reason: 'must be a string, got a list' },
    ]);
  });

  it('[IPC-68] local request: runWith keys absent are kept, MERGE/RESET per component', () => {
    const r = parseDeploymentDocument({
      requestId: 'r',
      rootComponentVersionsToAdd: { A: '2.0.0' },
      componentToConfiguration: { A: { MERGE: { k: 1 }, RESET: ['/old'] } },
      componentToRunWithInfo: { A: { systemResourceLimits: { memory: 1024 } } },
    });
    if (!r.ok) expect.fail(JSON.stringify(r.problems));
    expect(r.document.configurationUpdates).to.deep.equal({ A: { merge: { k: 1 }, reset: ['/old'] } });
    expect(r.document.runWith).to.deep.equal({ A: { systemResourceLimits: { memory: 1024 } } });
  });

  it('[DP-24] missingCapabilities names each unsupported entry', () => {
    expect(
      missingCapabilities({ requiredCapabilities: ['LARGE_CONFIGURATION', 'X', 'SUB_DEPLOYMENTS'] }),
    ).to.deep.equal([
      {
        path: 'requiredCapabilities[1]',
        reason:
          '"X" is not supported by this nucleus (supported: LARGE_CONFIGURATION, LINUX_RESOURCE_LIMITS, SUB_DEPLOYMENTS)',
      },
    ]);
  });
});

describe('groupRootsAfter [DP-02, DP-23]', () => {
  it('cloud documents replace the group roots', () => {
    expect(
      groupRootsAfter(
        { A: '1.0.0', B: '1.0.0' },
        { rootsMode: 'replace', rootComponents: { C: '2.0.0' }, rootComponentsToRemove: [] },
      ),
    ).to.deep.equal({ C: '2.0.0' });
  });

  it('local requests remove then add on top of the current roots', () => {
    expect(
      groupRootsAfter(
        { A: '1.0.0', B: '1.0.0' },
        {
          rootsMode: 'merge',
          rootComponents: { B: '2.0.0', C: '1.0.0' },
          rootComponentsToRemove: ['A', 'B'],
        },
      ),
    ).to.deep.equal({ B: '2.0.0', C: '1.0.0' });
  });
});
