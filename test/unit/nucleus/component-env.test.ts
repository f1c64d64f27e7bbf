// The environment a component's steps start from [LC-71, CF-54]: the nucleus's own, then the
// nucleus's variables, then the root setenv; later layers override earlier ones in place.
import { expect } from 'chai';
import { componentBaseEnv } from '../../../src/nucleus/component-env.js';
import type { NucleusSettings } from '../../../src/nucleus/nucleus-config.js';

const settings: NucleusSettings = {
  nucleusName: 'aws.greengrass.Nucleus',
  thingName: 'thing-1',
  awsRegion: 'eu-west-1',
  rootCaPath: '/ca.pem',
  runWithDefault: { posixShell: 'sh' },
  logging: {},
  interpolateComponentConfiguration: false,
  platformOverride: {},
};

describe('component base environment', () => {
  it('[LC-71] process env first, PATH completed in place, nucleus variables, then root setenv', () => {
    const env = componentBaseEnv({
      settings,
      authToken: 'tok',
      socketPath: '/r/ipc.socket',
      socketPathForComponent: 'ipc.socket',
      globalSetenv: { AWS_REGION: 'override', EXTRA: 7, SKIPPED: null, NESTED: { a: 1 } },
      base: { HOME: '/root', PATH: '/opt/bin', SVCUID: 'stale', UNSET: undefined },
    });
    expect(Object.keys(env)).to.deep.equal([
      'HOME',
      'PATH',
      'SVCUID',
      'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      'GG_ROOT_CA_PATH',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_IOT_THING_NAME',
      'GGC_VERSION',
      'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH',
      'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT',
      'EXTRA',
    ]);
    expect(env.PATH).to.equal('/opt/bin:/bin:/usr/bin:/sbin:/usr/sbin');
    expect(env.SVCUID).to.equal('tok');
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN).to.equal('tok');
    expect(env.AWS_REGION).to.equal('override');
    expect(env.AWS_DEFAULT_REGION).to.equal('eu-west-1');
    expect(env.EXTRA).to.equal('7');
  });

  it('[CF-40] proxy variables when a network proxy is configured', () => {
    const env = componentBaseEnv({
      settings: { ...settings, networkProxy: { url: 'http://proxy:3128' } },
      authToken: 'tok',
      socketPath: '/r/ipc.socket',
      socketPathForComponent: 'ipc.socket',
      globalSetenv: {},
      base: {},
    });
    expect(env.HTTPS_PROXY).to.equal('http://proxy:3128');
    expect(env.no_proxy).to.equal('localhost,127.0.0.1');
  });
});
