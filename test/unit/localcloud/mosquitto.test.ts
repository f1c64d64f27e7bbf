// The pure parts of the Mosquitto broker mode: the broker option, the ACL from the device policy, and
// reading connection events from Mosquitto's log lines (as Mosquitto 2.0 writes them).
import { expect } from 'chai';
import { parseBrokerOption } from '../../../src/localcloud/device/broker-mosquitto.js';
import { aclText } from '../../../src/localcloud/device/mosquitto-config.js';
import { connectionEvent } from '../../../src/localcloud/device/mosquitto-process.js';
import { DEFAULT_DEVICE_POLICY } from '../../../src/localcloud/device/policy.js';
import { parseLocalCloudFlags } from '../../../src/cli/localcloud-command.js';

describe('localcloud: the Mosquitto broker mode', () => {
  it('reads the broker option: embedded by default, a broker URL, and precise errors', () => {
    expect(parseBrokerOption(undefined)).to.deep.equal({ kind: 'embedded' });
    expect(parseBrokerOption('embedded')).to.deep.equal({ kind: 'embedded' });
    const ext = parseBrokerOption('mqtts://127.0.0.1:8883');
    expect(ext.kind).to.equal('external');
    expect(() => parseBrokerOption('http://x')).to.throw(/broker URL http:\/\/x: the scheme must be mqtt/);
    expect(() => parseBrokerOption('aedes2')).to.throw(
      /broker must be 'embedded', 'mosquitto' or a broker URL/,
    );
    expect(() => parseBrokerOption('mosquitto', '/nonexistent/mosquitto')).to.throw(
      /mosquittoPath \/nonexistent\/mosquitto is not an executable/,
    );
    expect(() => parseLocalCloudFlags({ data: '/tmp/x', broker: 'ftp://x' })).to.throw(
      /^--broker URL ftp:\/\/x: the scheme must be/,
    );
    expect(parseLocalCloudFlags({ data: '/tmp/x', broker: 'mqtt://127.0.0.1:1883' })).to.include({
      broker: 'mqtt://127.0.0.1:1883',
    });
  });

  it('[CL-77] turns the device policy into pattern ACLs with %u for the thing, refusing what the ACL file cannot say', () => {
    const acl = aclText(DEFAULT_DEVICE_POLICY).split('\n');
    expect(acl).to.include.members([
      'pattern write $aws/things/%u/#',
      'pattern write $aws/things/%u-gci/#',
      'pattern read $aws/things/%u/#',
      'pattern read $aws/things/%u-gci/#',
    ]);
    expect(() => aclText({ publish: ['a/%c/b'], subscribe: [] })).to.throw(
      /^policy\.publish\[0\] 'a\/%c\/b': '%'/,
    );
    expect(() => aclText({ publish: [], subscribe: ['x', 'a\ntopic readwrite #'] })).to.throw(
      /^policy\.subscribe\[1\] [\s\S]*control characters/,
    );
  });

  it('reads connections and disconnections from the log', () => {
    expect(
      connectionEvent("New client connected from 127.0.0.1:39898 as alpha#2 (p2, c1, k60, u'alpha')."),
    ).to.deep.equal({ type: 'connected', clientId: 'alpha#2', username: 'alpha' });
    expect(
      connectionEvent('New client connected from /d/service.sock:0 as svc (p2, c0, k30).'),
    ).to.deep.equal({
      type: 'connected',
      clientId: 'svc',
    });
    for (const line of [
      'Client alpha disconnected.',
      'Client alpha closed its connection.',
      'Client alpha has exceeded timeout, disconnecting.',
      'Socket error on client alpha, disconnecting.',
      'Client alpha already connected, closing old connection.',
    ])
      expect(connectionEvent(line), line).to.deep.equal({ type: 'disconnected', clientId: 'alpha' });
    expect(connectionEvent('Client <unknown> disconnected: Protocol error.')).to.equal(undefined);
    expect(connectionEvent('New connection from 127.0.0.1:39918 on port 18883.')).to.equal(undefined);
  });
});
