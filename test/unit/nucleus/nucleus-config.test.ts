// readNucleusSettings reads the nucleus service and its configuration off the config tree without
// copying every service out of it; these pin the choice of the nucleus service [CF-26 intro] and
// the case-insensitive keys it has always had.
import { expect } from 'chai';
import { Configuration } from '../../../src/config/index.js';
import { readNucleusSettings } from '../../../src/nucleus/nucleus-config.js';

function tree(map: Record<string, unknown>): Configuration {
  const c = new Configuration({ clock: () => 1 });
  c.merge(map as never, { timestamp: 1 });
  return c;
}

describe('nucleus settings from the config tree', () => {
  it('[CF-26] aws.greengrass.Nucleus is the nucleus; its configuration keys are case-insensitive', () => {
    const s = readNucleusSettings(
      tree({
        system: { thingName: 'thing-1', rootCaPath: '/ca.pem' },
        services: {
          Other: { componentType: 'NUCLEUS', configuration: { awsRegion: 'eu-west-1' } },
          'aws.greengrass.Nucleus': {
            Configuration: { AwsRegion: 'us-west-2', runWithDefault: { posixShell: 'bash' } },
          },
        },
      }),
    );
    expect(s.nucleusName).to.equal('aws.greengrass.Nucleus');
    expect(s.awsRegion).to.equal('us-west-2');
    expect(s.runWithDefault.posixShell).to.equal('bash');
    expect(s.thingName).to.equal('thing-1');
    expect(s.rootCaPath).to.equal('/ca.pem');
  });

  it('[CF-26] without aws.greengrass.Nucleus, the service whose componentType is NUCLEUS', () => {
    const s = readNucleusSettings(
      tree({
        services: {
          A: { componentType: 'GENERIC', configuration: { awsRegion: 'eu-west-1' } },
          'my.Nucleus': { ComponentType: 'nucleus', configuration: { awsRegion: 'ap-south-1' } },
        },
      }),
    );
    expect(s.nucleusName).to.equal('my.Nucleus');
    expect(s.awsRegion).to.equal('ap-south-1');
  });

  it('defaults when there are no services, or the configuration is not a map', () => {
    expect(readNucleusSettings(tree({})).nucleusName).to.equal('aws.greengrass.Nucleus');
    const s = readNucleusSettings(tree({ services: { 'aws.greengrass.Nucleus': { configuration: 'x' } } }));
    expect(s.awsRegion).to.equal('us-east-1');
    expect(s.runWithDefault.posixShell).to.equal('sh');
  });
});
