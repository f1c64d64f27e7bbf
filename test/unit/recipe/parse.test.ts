// Recipe parsing and validation, with cases modelled on public Greengrass recipes.
import { expect } from 'chai';
import {
  DOCUMENT_PATH,
  formatProblems,
  parseRecipe,
  type Recipe,
  type RecipeProblem,
} from '../../../src/recipe/index.js';

function ok(text: string): Recipe {
  const r = parseRecipe(text);
  if (!r.ok) expect.fail(formatProblems(r.problems));
  return r.recipe;
}

function problems(text: string | Buffer, opts?: { maxBytes?: number }): RecipeProblem[] {
  const r = parseRecipe(text, opts);
  if (r.ok) expect.fail('expected the recipe to be refused');
  return r.problems;
}

const HELLO = `---
RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.HelloWorld
ComponentVersion: '1.0.0'
ComponentDescription: My first AWS IoT Greengrass component.
ComponentPublisher: Amazon
ComponentConfiguration:
  DefaultConfiguration:
    Message: world
Manifests:
  - Platform:
      os: linux
    Lifecycle:
      Run: |
        python3 -u {artifacts:path}/hello_world.py "{configuration:/Message}"
    Artifacts:
      - URI: s3://DOC-EXAMPLE-BUCKET/artifacts/com.example.HelloWorld/1.0.0/hello_world.py
`;

function withField(yaml: string): string {
  return HELLO + yaml;
}

describe('parseRecipe', () => {
  it('[RC-01][RC-03..RC-08] reads a hello-world YAML recipe with its defaults', () => {
    const r = ok(HELLO);
    expect(r.componentName).to.equal('com.example.HelloWorld');
    expect(r.componentVersion).to.equal('1.0.0');
    expect(r.componentType).to.equal('aws.greengrass.generic');
    expect(r.componentDescription).to.equal('My first AWS IoT Greengrass component.');
    expect(r.componentPublisher).to.equal('Amazon');
    expect(r.defaultConfiguration).to.deep.equal({ Message: 'world' });
    expect(r.componentDependencies).to.deep.equal({});
    expect(r.manifests).to.have.length(1);
    expect(r.manifests[0].platform).to.deep.equal({ os: 'linux' });
    expect(r.manifests[0].artifacts[0]).to.deep.equal({
      uri: 's3://DOC-EXAMPLE-BUCKET/artifacts/com.example.HelloWorld/1.0.0/hello_world.py',
      unarchive: 'NONE',
      permission: { read: 'OWNER', execute: 'NONE' },
    });
  });

  it('[RC-01][RC-02] reads the same recipe as JSON, from a Buffer', () => {
    const json = JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: 'com.example.HelloWorld',
      ComponentVersion: '1.0.0',
      Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { Run: 'echo hi' } }],
    });
    const r = parseRecipe(Buffer.from(json));
    expect(r.ok && r.recipe.manifests[0].lifecycle).to.deep.equal({ Run: 'echo hi' });
  });

  it('[RC-01][RC-03] accepts an unquoted YAML RecipeFormatVersion 2020-01-25 as the string', () => {
    const r = ok(HELLO.replace("RecipeFormatVersion: '2020-01-25'", 'RecipeFormatVersion: 2020-01-25'));
    expect(r.recipeFormatVersion).to.equal('2020-01-25');
  });

  it('[RC-01] matches property names case-insensitively (recipeformatversion, COMPONENTNAME, uri)', () => {
    const r = ok(`recipeformatversion: '2020-01-25'
COMPONENTNAME: a.b
componentVersion: 1.2.3
componenttype: AWS.GREENGRASS.PLUGIN
manifests:
  - platform: { os: linux }
    artifacts:
      - uri: greengrass:file.zip
        unarchive: zip
        permission: { read: all, execute: owner }
`);
    expect(r.componentName).to.equal('a.b');
    expect(r.componentType).to.equal('aws.greengrass.plugin');
    expect(r.manifests[0].artifacts[0]).to.deep.include({
      unarchive: 'ZIP',
      permission: { read: 'ALL', execute: 'OWNER' },
    });
  });

  it('[RC-01] ignores unknown properties (legacy manifest Dependencies, custom keys)', () => {
    const r = ok(withField('Unknown: 1\nComponentSource: arn:aws:lambda:us-east-1:1:function:f\n'));
    expect(r.componentSource).to.equal('arn:aws:lambda:us-east-1:1:function:f');
  });

  it('[RC-01] refuses a property spelled twice with different case, naming both', () => {
    const p = problems(withField('componentname: other\n'));
    expect(p).to.deep.equal([
      { path: 'componentname', reason: 'duplicate property: also spelled "ComponentName"' },
    ]);
  });

  it('[RC-01] reports a YAML syntax error with line and column', () => {
    const p = problems('RecipeFormatVersion: x\n  bad: [\n');
    expect(p[0].path).to.equal(DOCUMENT_PATH);
    expect(p[0].reason).to.match(/^YAML syntax error: .* at line \d+, column \d+$/);
  });

  it('[RC-01] refuses a document that is not a map', () => {
    expect(problems('- a\n- b\n')).to.deep.equal([
      { path: DOCUMENT_PATH, reason: 'a recipe must be a map, got a list' },
    ]);
    expect(problems('   \n')).to.deep.equal([{ path: DOCUMENT_PATH, reason: 'recipe is empty' }]);
  });

  it('[RC-01] refuses a recipe over the size cap without parsing it', () => {
    const p = problems(HELLO + '#'.repeat(100), { maxBytes: 200 });
    expect(p).to.have.length(1);
    expect(p[0].reason).to.match(/^recipe is \d+ bytes, over the 200-byte limit; not parsed$/);
  });

  it('[RC-01] refuses bytes that are not UTF-8', () => {
    expect(problems(Buffer.from([0x52, 0xff, 0xfe]))[0].reason).to.equal('recipe is not valid UTF-8 text');
  });

  it('[RC-03][RC-04][RC-05] reports every missing required field at once', () => {
    const p = problems('ComponentDescription: nothing else\n');
    expect(p).to.deep.equal([
      { path: 'RecipeFormatVersion', reason: 'is required' },
      { path: 'ComponentName', reason: 'is required' },
      { path: 'ComponentVersion', reason: 'is required' },
    ]);
  });

  it('[RC-04] refuses a component name over 128 characters', () => {
    const p = problems(HELLO.replace('com.example.HelloWorld', 'a'.repeat(129)));
    expect(p).to.deep.equal([{ path: 'ComponentName', reason: 'must be at most 128 characters, got 129' }]);
  });

  it('[RC-04] refuses a component name with a slash', () => {
    expect(problems(HELLO.replace('com.example.HelloWorld', 'com/example'))[0].path).to.equal(
      'ComponentName',
    );
  });

  it('[RC-05] refuses versions that are not semver, have a v prefix, or exceed 999999', () => {
    expect(problems(HELLO.replace("'1.0.0'", "'1.0'"))[0]).to.deep.equal({
      path: 'ComponentVersion',
      reason: 'must be a semantic version (MAJOR.MINOR.PATCH), got "1.0"',
    });
    expect(problems(HELLO.replace("'1.0.0'", 'v1.0.0'))[0].path).to.equal('ComponentVersion');
    expect(problems(HELLO.replace("'1.0.0'", "'1.1000000.0'"))[0]).to.deep.equal({
      path: 'ComponentVersion',
      reason: 'minor version 1000000 exceeds 999999',
    });
  });

  it('[RC-05] accepts pre-release and build metadata within 64 characters', () => {
    expect(ok(HELLO.replace("'1.0.0'", "'1.0.0-beta.1+build.7'")).componentVersion).to.equal(
      '1.0.0-beta.1+build.7',
    );
  });

  it('[RC-06] refuses an unknown component type and lists the allowed ones', () => {
    const p = problems(withField('ComponentType: aws.greengrass.docker\n'));
    expect(p[0].path).to.equal('ComponentType');
    expect(p[0].reason).to.contain('aws.greengrass.generic').and.contain('"aws.greengrass.docker"');
  });

  it('[RC-09][RC-10] reads Docker-style SOFT and default HARD dependencies with ranges', () => {
    const r = ok(
      withField(`ComponentDependencies:
  aws.greengrass.DockerApplicationManager:
    VersionRequirement: '~2.0.0'
  aws.greengrass.TokenExchangeService:
    VersionRequirement: '>=2.0.0 <3.0.0'
    DependencyType: soft
`),
    );
    expect(r.componentDependencies).to.deep.equal({
      'aws.greengrass.DockerApplicationManager': { versionRequirement: '~2.0.0', dependencyType: 'HARD' },
      'aws.greengrass.TokenExchangeService': { versionRequirement: '>=2.0.0 <3.0.0', dependencyType: 'SOFT' },
    });
  });

  it('[RC-09] refuses an invalid range and a bad dependency type, naming the dependency', () => {
    const p = problems(
      withField(`ComponentDependencies:
  aws.greengrass.Nucleus:
    VersionRequirement: 'latest please'
    DependencyType: OPTIONAL
`),
    );
    expect(p).to.deep.equal([
      {
        path: 'ComponentDependencies["aws.greengrass.Nucleus"].VersionRequirement',
        reason: 'is not a valid NPM-style semver range: "latest please"',
      },
      {
        path: 'ComponentDependencies["aws.greengrass.Nucleus"].DependencyType',
        reason: 'must be one of HARD, SOFT, got "OPTIONAL"',
      },
    ]);
  });

  it('[RC-09] accepts the semver4j spelling "==1.12.134"', () => {
    const r = ok(withField("ComponentDependencies:\n  botocore:\n    VersionRequirement: '==1.12.134'\n"));
    expect(r.componentDependencies.botocore.versionRequirement).to.equal('==1.12.134');
  });

  it('[RC-11] refuses Manifests that is not a list', () => {
    const p = problems(HELLO.replace(/Manifests:[\s\S]*$/, 'Manifests: {os: linux}\n'));
    expect(p).to.deep.equal([{ path: 'Manifests', reason: 'must be a list, got a map' }]);
  });

  it('[RC-11] reads a recipe without manifests (refused later, at manifest selection)', () => {
    expect(ok(HELLO.replace(/Manifests:[\s\S]*$/, '')).manifests).to.deep.equal([]);
  });

  it('[RC-12][RC-23] refuses a platform regex that does not compile, and a list template', () => {
    const p = problems(HELLO.replace('os: linux', "os: '/linux(/'\n      architecture: [a, b]"));
    expect(p.map((x) => x.path)).to.deep.equal([
      'Manifests[0].Platform.os',
      'Manifests[0].Platform.architecture',
    ]);
    expect(p[0].reason).to.match(/^invalid regular expression: /);
    expect(p[1].reason).to.equal('must be a string, got a list');
  });

  it('[RC-15] reads Selections and refuses a non-list Selections', () => {
    expect(
      ok(HELLO.replace('os: linux', 'os: linux\n    Selections: [linux, all]')).manifests[0].selections,
    ).to.deep.equal(['linux', 'all']);
    expect(problems(HELLO.replace('os: linux', 'os: linux\n    Selections: linux'))[0]).to.deep.equal({
      path: 'Manifests[0].Selections',
      reason: 'must be a list of selector keywords, got string "linux"',
    });
  });

  it('[RC-16] refuses bad Unarchive and Permission values with their paths', () => {
    const p = problems(
      HELLO.replace(
        'hello_world.py\n',
        'hello_world.py\n        Unarchive: TAR\n        Permission:\n          Read: EVERYONE\n          Execute: ROOT\n',
      ),
    );
    expect(p.map((x) => `${x.path}: ${x.reason}`)).to.deep.equal([
      'Manifests[0].Artifacts[0].Unarchive: must be one of NONE, ZIP, got "TAR"',
      'Manifests[0].Artifacts[0].Permission.Read: must be one of NONE, OWNER, ALL, got "EVERYONE"',
      'Manifests[0].Artifacts[0].Permission.Execute: must be one of NONE, OWNER, ALL, got "ROOT"',
    ]);
  });

  it('[RC-16][RC-40] refuses a Digest without Algorithm', () => {
    const p = problems(
      HELLO.replace(
        'hello_world.py\n',
        'hello_world.py\n        Digest: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n',
      ),
    );
    expect(p).to.deep.equal([
      {
        path: 'Manifests[0].Artifacts[0].Algorithm',
        reason: 'is required when Digest is given (RECIPE_MISSING_ARTIFACT_HASH_ALGORITHM)',
      },
    ]);
  });

  it('[RC-39] refuses an ftp: artifact in the second manifest, naming manifest and artifact', () => {
    const p = problems(`${HELLO}  - Platform: { os: windows }
    Artifacts:
      - Uri: ftp://example.com/file.zip
`);
    expect(p).to.deep.equal([
      {
        path: 'Manifests[1].Artifacts[0].Uri',
        reason: 'unsupported scheme "ftp" (supported: greengrass, s3, https, docker)',
      },
    ]);
  });

  it('[RC-39] accepts greengrass:, s3:, https: and docker: artifacts (Docker Hub, ECR)', () => {
    const r = ok(
      HELLO.replace(
        /Artifacts:[\s\S]*$/,
        `Artifacts:
      - Uri: greengrass:hello.zip
      - Uri: https://example.com/a.tar
      - Uri: docker:mysql:8.0
      - Uri: docker:public.ecr.aws/amazonlinux/amazonlinux@sha256:0123
`,
      ),
    );
    expect(r.manifests[0].artifacts.map((a) => a.uri.split(':')[0])).to.deep.equal([
      'greengrass',
      'https',
      'docker',
      'docker',
    ]);
  });

  it('[RC-39] loads a scheme-less artifact URI with a warning (the reference refuses it at download)', () => {
    const r = parseRecipe(HELLO.replace('s3://DOC', 's3//DOC'));
    expect(r.ok).to.equal(true);
    if (r.ok) expect(r.warnings.map((w) => w.path)).to.deep.equal(['Manifests[0].Artifacts[0].Uri']);
  });

  it('[RC-16] reads Artifacts: null (Greengrass Lite Docker sample) as no artifacts', () => {
    expect(ok(HELLO.replace(/Artifacts:[\s\S]*$/, 'Artifacts: null\n')).manifests[0].artifacts).to.deep.equal(
      [],
    );
  });

  it('[RC-17] reads a Greengrass Lite list-form Lifecycle as a map, with a warning', () => {
    const r = parseRecipe(withField('Lifecycle:\n  - all:\n      run: echo hi\n'));
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.recipe.lifecycle).to.deep.equal({ all: { run: 'echo hi' } });
    expect(r.warnings).to.deep.equal([
      { path: 'Lifecycle', reason: 'is a list (Greengrass Lite form); read as the map of its entries' },
    ]);
  });

  it('[RC-14][RC-17] refuses a lifecycle that is a string, and a non-map DefaultConfiguration', () => {
    const p = problems(
      withField('Lifecycle: echo hi\n')
        .replace('    Message: world\n', '')
        .replace('DefaultConfiguration:', 'DefaultConfiguration: [1]'),
    );
    expect(p.map((x) => `${x.path}: ${x.reason}`)).to.deep.equal([
      'ComponentConfiguration.DefaultConfiguration: must be a map, got a list',
      'Lifecycle: must be a map, got string "echo hi"',
    ]);
  });

  it('[RC-01] a JSON recipe with trailing commas is read as YAML flow syntax (Greengrass Lite sample)', () => {
    const r = ok(
      '{ "RecipeFormatVersion": "2020-01-25", "ComponentName": "x", "ComponentVersion": "1.0.0", }',
    );
    expect(r.componentName).to.equal('x');
  });

  it('formatProblems renders one "path: reason" per line', () => {
    expect(
      formatProblems([
        { path: 'A', reason: 'b' },
        { path: '', reason: 'c' },
      ]),
    ).to.equal('A: b\nc');
  });
});
