import { expect } from 'chai';
import { buildPolicyIndex, isAuthorized, resourceMatches } from '../../../src/ipc/index.js';

const PUB = 'aws.greengrass#PublishToTopic';
const SUB = 'aws.greengrass#SubscribeToTopic';
const PUBSUB = 'aws.greengrass.ipc.pubsub';
const MQTT = 'aws.greengrass.ipc.mqttproxy';

describe('IPC authorization policies [IPC-91..IPC-98]', () => {
  const check = (principal: string, operation: string, resource: string, service = PUBSUB) => ({
    principal,
    service,
    operation,
    resource,
  });

  it('[IPC-91][IPC-97] allows the owning component on listed operations and resources only', () => {
    const index = buildPolicyIndex({
      A: { [PUBSUB]: { p1: { policyDescription: 'x', operations: [PUB], resources: ['t/1', 'pre/*'] } } },
    });
    expect(isAuthorized(index, check('A', PUB, 't/1'))).to.equal(true);
    expect(isAuthorized(index, check('A', PUB, 'pre/x/y'))).to.equal(true);
    expect(isAuthorized(index, check('A', PUB, 't/2'))).to.equal(false);
    expect(isAuthorized(index, check('A', SUB, 't/1'))).to.equal(false);
    expect(isAuthorized(index, check('B', PUB, 't/1'))).to.equal(false);
    expect(index.warnings).to.deep.equal([]);
  });

  it('[IPC-89] * as operation covers the service operations, but not operations of another service', () => {
    const index = buildPolicyIndex({ A: { [PUBSUB]: { p: { operations: ['*'], resources: ['*'] } } } });
    expect(isAuthorized(index, check('A', SUB, 'anything/#'))).to.equal(true);
    expect(isAuthorized(index, check('A', 'aws.greengrass#PublishToIoTCore', 'x', PUBSUB))).to.equal(false);
    expect(isAuthorized(index, check('A', 'aws.greengrass#PublishToIoTCore', 'x', MQTT))).to.equal(false);
  });

  it('[IPC-92] property names are case-insensitive and accessControl may be a JSON string', () => {
    const index = buildPolicyIndex({
      A: JSON.stringify({ [PUBSUB]: { p: { Operations: [PUB], RESOURCES: ['t'] } } }),
    });
    expect(isAuthorized(index, check('A', PUB, 't'))).to.equal(true);
  });

  it('[IPC-93] an empty policy id voids every policy of that service; policies without operations are skipped', () => {
    const index = buildPolicyIndex({
      A: { [PUBSUB]: { p: { operations: [PUB], resources: ['*'] } } },
      B: { [PUBSUB]: { '': { operations: [PUB], resources: ['*'] } } },
      C: { [MQTT]: { q: { resources: ['*'] } } },
    });
    expect(isAuthorized(index, check('A', PUB, 't'))).to.equal(false);
    expect(index.warnings.some((w) => w.includes('voids'))).to.equal(true);
    expect(index.warnings.some((w) => w.startsWith('C:') && w.includes('no operations'))).to.equal(true);
  });

  it('[IPC-98] missing resources grant nothing; a bare ? drops that resource', () => {
    const index = buildPolicyIndex({
      A: { [PUBSUB]: { p: { operations: [PUB] } } },
      B: { [PUBSUB]: { q: { operations: [PUB], resources: ['a?', 'b'] } } },
    });
    expect(isAuthorized(index, check('A', PUB, 't'))).to.equal(false);
    expect(isAuthorized(index, check('B', PUB, 'a?'))).to.equal(false);
    expect(isAuthorized(index, check('B', PUB, 'ab'))).to.equal(false);
    expect(isAuthorized(index, check('B', PUB, 'b'))).to.equal(true);
  });

  it('malformed accessControl is reported, not thrown', () => {
    const index = buildPolicyIndex({ A: '{nope', B: 5, C: { [PUBSUB]: 'x' }, D: { [PUBSUB]: { p: 3 } } });
    expect(index.warnings).to.have.length(4);
    expect(index.services.size).to.equal(0);
  });

  describe('[IPC-98] resource matching', () => {
    const standard: [string, string, boolean][] = [
      ['*', 'any/thing/at/all', true],
      ['a/*', 'a/b/c', true],
      ['a/*/c', 'a/x/y/c', true],
      ['a/*/c/*', 'a/x/c/d', true],
      ['a/*', 'b/c', false],
      ['test/topic/#', 'test/topic/#', true],
      ['test/topic/#', 'test/topic/x', false],
      ['a/+/c', 'a/b/c', false],
      ['a/+/c', 'a/+/c', true],
      ['lit${*}', 'lit*', true],
      ['lit${*}', 'litx', false],
      ['q${?}', 'q?', true],
      ['${$}{x}', '${x}', true],
      ['$aws/things/x', '$aws/things/x', true],
      ['a.b', 'aXb', false],
    ];
    for (const [pattern, resource, expected] of standard) {
      it(`STANDARD ${pattern} ${expected ? 'matches' : 'does not match'} ${resource}`, () => {
        expect(resourceMatches(pattern, resource)).to.equal(expected);
      });
    }
    const mqtt: [string, string, boolean][] = [
      ['a/+/c', 'a/b/c', true],
      ['a/+/c', 'a/b/x/c', false],
      ['a/#', 'a', true],
      ['a/#', 'a/b/c', true],
      ['#', 'x/y', true],
      ['a/b+', 'a/bc', false],
      ['a/*', 'a/b/c', true],
    ];
    for (const [pattern, resource, expected] of mqtt) {
      it(`MQTT_STYLE ${pattern} ${expected ? 'matches' : 'does not match'} ${resource}`, () => {
        expect(resourceMatches(pattern, resource, true)).to.equal(expected);
      });
    }
  });
});
