// Recipe variables in accessControl resources (ipc.md IPC-97..IPC-100; recipes.md RC-30, RC-31, RC-33,
// RC-34) and which operations are checked at all.
import { expect } from 'chai';
import {
  buildPolicyIndex,
  isAuthorized,
  OPERATIONS,
  escapeResourceLiteral,
  interpolatePolicyResource,
} from '../../../src/ipc/index.js';

const PUBSUB = 'aws.greengrass.ipc.pubsub';
const MQTT = 'aws.greengrass.ipc.mqttproxy';
const PUBLISH = 'aws.greengrass#PublishToTopic';
const MQTT_PUBLISH = 'aws.greengrass#PublishToIoTCore';
const vars = {
  thingName: 'Core-1',
  rootPath: '/greengrass/v2',
  componentVersions: { App: '1.2.3' },
};

function allowed(
  index: ReturnType<typeof buildPolicyIndex>,
  resource: string,
  opts: { principal?: string; service?: string; operation?: string } = {},
) {
  return isAuthorized(index, {
    principal: opts.principal ?? 'App',
    service: opts.service ?? PUBSUB,
    operation: opts.operation ?? PUBLISH,
    resource,
  });
}

describe('policy resource interpolation', () => {
  it('[IPC-99][RC-31] {iot:thingName} in a pubsub resource is the thing name', () => {
    const index = buildPolicyIndex(
      { App: { [PUBSUB]: { p: { operations: [PUBLISH], resources: ['things/{iot:thingName}/out'] } } } },
      vars,
    );
    expect(allowed(index, 'things/Core-1/out')).to.equal(true);
    expect(allowed(index, 'things/Other/out')).to.equal(false);
    expect(allowed(index, 'things/{iot:thingName}/out')).to.equal(false);
  });

  it('[IPC-99][IPC-98] {iot:thingName} in an MQTT-style resource keeps + and # as wildcards', () => {
    const index = buildPolicyIndex(
      {
        App: {
          [MQTT]: { m: { operations: ['*'], resources: ['$aws/things/{iot:thingName}/shadow/#'] } },
        },
      },
      vars,
    );
    const mqtt = { service: MQTT, operation: MQTT_PUBLISH };
    expect(allowed(index, '$aws/things/Core-1/shadow/update', mqtt)).to.equal(true);
    expect(allowed(index, '$aws/things/Core-1/shadow', mqtt)).to.equal(true);
    expect(allowed(index, '$aws/things/Core-2/shadow/update', mqtt)).to.equal(false);
  });

  it('[RC-31][RC-33] kernel, work and artifacts variables resolve to the root layout of the owning component', () => {
    expect(interpolatePolicyResource('{kernel:rootPath}/x', 'App', vars).value).to.equal('/greengrass/v2/x');
    expect(interpolatePolicyResource('{work:path}', 'App', vars).value).to.equal('/greengrass/v2/work/App');
    expect(interpolatePolicyResource('{artifacts:path}', 'App', vars).value).to.equal(
      '/greengrass/v2/packages/artifacts/App/1.2.3',
    );
    expect(interpolatePolicyResource('{artifacts:decompressedPath}', 'App', vars).value).to.equal(
      '/greengrass/v2/packages/artifacts-unarchived/App/1.2.3',
    );
  });

  it('[RC-33] {configuration:...} is never resolved in policies, and is reported', () => {
    const r = interpolatePolicyResource('t/{configuration:/topic}', 'App', vars);
    expect(r.value).to.equal('t/{configuration:/topic}');
    expect(r.warnings).to.have.length(1);
    expect(r.warnings[0]).to.contain('App').and.contain('configuration');
  });

  it('[RC-34] unknown namespaces, cross-component references and missing values are left unchanged with a warning', () => {
    for (const [resource, v] of [
      ['{nope:x}/a', vars],
      ['{Other:iot:thingName}', vars],
      ['{iot:thingName}', {}],
      ['{artifacts:path}', { rootPath: '/r' }],
      ['{kernel:rootPath}', { thingName: 't' }],
    ] as const) {
      const r = interpolatePolicyResource(resource, 'App', v);
      expect(r.value, resource).to.equal(resource);
      expect(r.warnings, resource).to.have.length(1);
    }
    const index = buildPolicyIndex({
      App: { [PUBSUB]: { p: { operations: ['*'], resources: ['a/{iot:thingName}'] } } },
    });
    expect(index.warnings.some((w) => w.includes('thing name'))).to.equal(true);
    expect(allowed(index, 'a/Core-1')).to.equal(false);
  });

  it('[IPC-98] substituted text is matched literally: a * or ? in the value is not a glob', () => {
    expect(escapeResourceLiteral('a*b?c${d')).to.equal('a${*}b${?}c${$}{d');
    const index = buildPolicyIndex(
      { App: { [PUBSUB]: { p: { operations: ['*'], resources: ['{kernel:rootPath}/log'] } } } },
      { rootPath: '/data/*' },
    );
    expect(index.warnings).to.deep.equal([]);
    expect(allowed(index, '/data/*/log')).to.equal(true);
    expect(allowed(index, '/data/anything/log')).to.equal(false);
  });

  it('[IPC-98] escapes written by the policy author still work beside a variable', () => {
    const index = buildPolicyIndex(
      { App: { [PUBSUB]: { p: { operations: ['*'], resources: ['{iot:thingName}/${*}/*'] } } } },
      vars,
    );
    expect(allowed(index, 'Core-1/*/x/y')).to.equal(true);
    expect(allowed(index, 'Core-1/a/x')).to.equal(false);
  });

  it('[IPC-93] each component resolves its own artifacts path', () => {
    const index = buildPolicyIndex(
      {
        App: { [PUBSUB]: { a: { operations: ['*'], resources: ['{artifacts:path}'] } } },
        Other: { [PUBSUB]: { o: { operations: ['*'], resources: ['{artifacts:path}'] } } },
      },
      { rootPath: '/r', componentVersions: { App: '1.0.0', Other: '2.0.0' } },
    );
    expect(allowed(index, '/r/packages/artifacts/App/1.0.0')).to.equal(true);
    expect(allowed(index, '/r/packages/artifacts/Other/2.0.0')).to.equal(false);
    expect(allowed(index, '/r/packages/artifacts/Other/2.0.0', { principal: 'Other' })).to.equal(true);
  });
});

describe('which operations need a policy', () => {
  it('[IPC-100] the self/config/update operations carry no accessControl service (open to every caller)', () => {
    const open = [...OPERATIONS.values()].filter((m) => !m.authService).map((m) => m.name.split('#')[1]);
    expect(open.sort()).to.deep.equal(
      [
        'DeferComponentUpdate',
        'GetConfiguration',
        'SendConfigurationValidityReport',
        'SubscribeToComponentUpdates',
        'SubscribeToConfigurationUpdate',
        'SubscribeToIoTCoreConnectionStatus',
        'SubscribeToValidateConfigurationUpdates',
        'UpdateConfiguration',
        'UpdateState',
        'ValidateAuthorizationToken',
      ].sort(),
    );
  });

  it('[IPC-89][IPC-97] every other operation is denied without a matching policy, whatever the resource', () => {
    const index = buildPolicyIndex({});
    for (const m of OPERATIONS.values()) {
      if (!m.authService) continue;
      const check = { principal: 'App', service: m.authService, operation: m.name, resource: 'r' };
      expect(isAuthorized(index, check), m.name).to.equal(false);
    }
  });

  it('[IPC-89][IPC-97] a policy grants only operations registered for its service, with `*` allowed', () => {
    const index = buildPolicyIndex({
      App: { [PUBSUB]: { p: { operations: ['*', MQTT_PUBLISH], resources: ['*'] } } },
    });
    expect(allowed(index, 'x')).to.equal(true);
    expect(allowed(index, 'x', { service: MQTT, operation: MQTT_PUBLISH })).to.equal(false);
    expect(allowed(index, 'x', { service: PUBSUB, operation: MQTT_PUBLISH })).to.equal(false);
  });
});
