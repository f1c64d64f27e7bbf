import {
  CreateComponentVersionCommand,
  DeleteComponentCommand,
  DescribeComponentCommand,
  GetComponentCommand,
  GetComponentVersionArtifactCommand,
  ListComponentVersionsCommand,
  ListComponentsCommand,
  ResolveComponentCandidatesCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import yaml from 'js-yaml';
import { expectServiceError, recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

const ACCT = '123456789012';
const arnOf = (name: string, version?: string) =>
  `arn:aws:greengrass:us-east-1:${ACCT}:components:${name}${version ? `:versions:${version}` : ''}`;

describe('localcloud components', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });
  const create = (doc: unknown, extra: Record<string, unknown> = {}) =>
    h.client.send(new CreateComponentVersionCommand({ inlineRecipe: recipeBytes(doc), ...extra }));

  describe('CreateComponentVersion [CP-27]', () => {
    it('stores a JSON recipe: 201, REQUESTED, then DEPLOYABLE [CP-09]', async () => {
      const out = await create(simpleRecipe('com.example.A', '1.0.0'));
      expect(out.$metadata.httpStatusCode).to.equal(201);
      expect(out.arn).to.equal(arnOf('com.example.A', '1.0.0'));
      expect(out.status?.componentState).to.equal('REQUESTED');
      expect(out.creationTimestamp).to.be.instanceOf(Date);
      const d = await h.client.send(new DescribeComponentCommand({ arn: out.arn }));
      expect(d.status?.componentState).to.equal('DEPLOYABLE');
    });

    it('accepts a YAML recipe', async () => {
      const text = yaml.dump(simpleRecipe('com.example.Yaml', '2.1.0'));
      const out = await create(text);
      expect(out.componentName).to.equal('com.example.Yaml');
      expect(out.componentVersion).to.equal('2.1.0');
    });

    it('refuses a bad recipe with a ValidationException naming the field, storing nothing [CP-14]', async () => {
      const e = await expectServiceError(
        create(simpleRecipe('com.example.Bad', 'not-a-version')),
        'ValidationException',
        'ComponentVersion',
      );
      expect(e.reason).to.equal('FIELD_VALIDATION_FAILED');
      const list = await h.client.send(new ListComponentsCommand({}));
      expect(list.components).to.deep.equal([]);
    });

    it('refuses a recipe that is not JSON or YAML', async () => {
      await expectServiceError(create('{ this is : [ not'), 'ValidationException');
    });

    it('requires inlineRecipe or lambdaFunction', async () => {
      await expectServiceError(
        h.client.send(new CreateComponentVersionCommand({})),
        'ValidationException',
        'inlineRecipe',
      );
    });

    it('answers ConflictException for an existing version [CP-19]', async () => {
      await create(simpleRecipe('com.example.A', '1.0.0'));
      const e = await expectServiceError(create(simpleRecipe('com.example.A', '1.0.0')), 'ConflictException');
      expect(e.resourceId).to.equal(arnOf('com.example.A', '1.0.0'));
    });

    it('is idempotent per clientToken; a different body with the same token conflicts [CP-08]', async () => {
      const first = await create(simpleRecipe('com.example.I', '1.0.0'), { clientToken: 'tok-1' });
      const again = await create(simpleRecipe('com.example.I', '1.0.0'), { clientToken: 'tok-1' });
      expect(again.arn).to.equal(first.arn);
      expect(again.creationTimestamp?.getTime()).to.equal(first.creationTimestamp?.getTime());
      await expectServiceError(
        create(simpleRecipe('com.example.I', '1.0.1'), { clientToken: 'tok-1' }),
        'ConflictException',
      );
      await expectServiceError(
        create(simpleRecipe('com.example.I', '1.0.2'), { clientToken: 'bad token!' }),
        'ValidationException',
        'clientToken',
      );
    });

    it('refuses invalid tags naming the field', async () => {
      await expectServiceError(
        create(simpleRecipe('com.example.T', '1.0.0'), { tags: { ['k'.repeat(129)]: 'v' } }),
        'ValidationException',
        'tags key',
      );
    });

    it('generates a recipe from lambdaFunction', async () => {
      const out = await h.client.send(
        new CreateComponentVersionCommand({
          lambdaFunction: {
            lambdaArn: `arn:aws:lambda:us-east-1:${ACCT}:function:MyFn:3`,
            componentPlatforms: [{ name: 'Linux', attributes: { os: 'linux' } }],
            componentLambdaParameters: { eventSources: [{ topic: 'a/b', type: 'PUB_SUB' }], pinned: true },
          },
        }),
      );
      expect(out.componentName).to.equal('MyFn');
      expect(out.componentVersion).to.equal('3.0.0');
      const g = await h.client.send(new GetComponentCommand({ arn: out.arn }));
      const recipe = JSON.parse(Buffer.from(g.recipe!).toString('utf8'));
      expect(recipe.ComponentType).to.equal('aws.greengrass.lambda');
      expect(recipe.ComponentConfiguration.DefaultConfiguration.lambdaExecutionParameters.pinned).to.equal(
        true,
      );
      // The function's code cannot be fetched offline: the version fails until its artifact is uploaded.
      const d = await h.client.send(new DescribeComponentCommand({ arn: out.arn }));
      expect(d.status?.componentState).to.equal('FAILED');
      expect(Object.keys(d.status?.errors ?? {})).to.deep.equal(['greengrass:lambda-artifact.zip']);
    });

    it('refuses a lambdaArn without a published version', async () => {
      await expectServiceError(
        h.client.send(
          new CreateComponentVersionCommand({
            lambdaFunction: { lambdaArn: `arn:aws:lambda:us-east-1:${ACCT}:function:MyFn:$LATEST` },
          }),
        ),
        'ValidationException',
        'lambdaFunction.lambdaArn',
      );
    });
  });

  describe('artifacts: FAILED, upload, GetComponentVersionArtifact [CP-35]', () => {
    const withArtifact = (name: string, version: string, uri: string) =>
      simpleRecipe(name, version, { Manifests: [{ Platform: { os: 'linux' }, Artifacts: [{ Uri: uri }] }] });

    async function upload(query: string, body: string) {
      const res = await fetch(`${h.cloud.endpoint}/tendril/artifacts?${query}`, { method: 'PUT', body });
      expect(res.status).to.equal(200);
      return (await res.json()) as { digest: string };
    }

    it('marks a version FAILED with the missing artifact URI in errors', async () => {
      const out = await create(withArtifact('com.example.Missing', '1.0.0', 's3://bucket/missing.zip'));
      const d = await h.client.send(new DescribeComponentCommand({ arn: out.arn }));
      expect(d.status?.componentState).to.equal('FAILED');
      expect(d.status?.errors).to.have.property('s3://bucket/missing.zip');
    });

    it('is DEPLOYABLE with the digest once the artifact is stored, and serves it by presigned URL', async () => {
      const content = 'hello artifact';
      const up = await upload(`uri=${encodeURIComponent('s3://bucket/dir/hello.txt')}`, content);
      const sha = createHash('sha256').update(content).digest('base64');
      expect(up.digest).to.equal(sha);
      const out = await create(withArtifact('com.example.Art', '1.0.0', 's3://bucket/dir/hello.txt'));
      const g = await h.client.send(new GetComponentCommand({ arn: out.arn }));
      const recipe = JSON.parse(Buffer.from(g.recipe!).toString('utf8'));
      expect(recipe.Manifests[0].Artifacts[0]).to.include({ Digest: sha, Algorithm: 'SHA-256' });
      const a = await h.client.send(
        new GetComponentVersionArtifactCommand({
          arn: out.arn,
          artifactName: 'dir/hello.txt',
          s3EndpointType: 'GLOBAL',
        }),
      );
      const whole = await fetch(a.preSignedUrl!);
      expect(whole.status).to.equal(200);
      expect(await whole.text()).to.equal(content);
      const part = await fetch(a.preSignedUrl!, { headers: { range: 'bytes=6-' } });
      expect(part.status).to.equal(206);
      expect(await part.text()).to.equal('artifact');
      const forged = await fetch(a.preSignedUrl!.replace(/signature=[0-9a-f]+/, 'signature=00'));
      expect(forged.status).to.equal(403);
    });

    it('serves greengrass: artifacts uploaded for the component version (CL-28)', async () => {
      await upload('uri=greengrass:Foo/bar.txt&componentName=com.example.G&componentVersion=1.0.0', 'gg');
      const out = await create(withArtifact('com.example.G', '1.0.0', 'greengrass:Foo/bar.txt'));
      const a = await h.client.send(
        new GetComponentVersionArtifactCommand({ arn: out.arn, artifactName: 'Foo/bar.txt' }),
      );
      expect(await (await fetch(a.preSignedUrl!)).text()).to.equal('gg');
    });

    it('answers ResourceNotFoundException for an unknown artifact name', async () => {
      const out = await create(simpleRecipe('com.example.NoArt', '1.0.0'));
      await expectServiceError(
        h.client.send(new GetComponentVersionArtifactCommand({ arn: out.arn, artifactName: 'nope.zip' })),
        'ResourceNotFoundException',
      );
    });

    it('refuses a bad s3EndpointType', async () => {
      const out = await create(simpleRecipe('com.example.NoArt', '1.0.0'));
      await expectServiceError(
        h.client.send(
          new GetComponentVersionArtifactCommand({
            arn: out.arn,
            artifactName: 'x',
            s3EndpointType: 'WRONG' as 'GLOBAL',
          }),
        ),
        'ValidationException',
        's3EndpointType',
      );
    });
  });

  describe('DescribeComponent, GetComponent [CP-32] [CP-34]', () => {
    it('describes a version with platforms and tags', async () => {
      const out = await create(simpleRecipe('com.example.D', '1.2.3'), { tags: { team: 'edge' } });
      const d = await h.client.send(new DescribeComponentCommand({ arn: out.arn }));
      expect(d.componentName).to.equal('com.example.D');
      expect(d.publisher).to.equal('Tendril tests');
      expect(d.platforms).to.deep.equal([{ attributes: { os: 'linux' } }]);
      expect(d.tags).to.deep.equal({ team: 'edge' });
    });

    it('returns the recipe as JSON or YAML [CP-06]', async () => {
      const out = await create(simpleRecipe('com.example.R', '1.0.0'));
      const j = await h.client.send(new GetComponentCommand({ arn: out.arn, recipeOutputFormat: 'JSON' }));
      expect(j.recipeOutputFormat).to.equal('JSON');
      expect(JSON.parse(Buffer.from(j.recipe!).toString()).ComponentName).to.equal('com.example.R');
      const y = await h.client.send(new GetComponentCommand({ arn: out.arn, recipeOutputFormat: 'YAML' }));
      expect(
        (yaml.load(Buffer.from(y.recipe!).toString()) as { ComponentVersion: string }).ComponentVersion,
      ).to.equal('1.0.0');
    });

    it('refuses a malformed ARN and answers not found for an unknown version [CP-53]', async () => {
      await expectServiceError(
        h.client.send(new DescribeComponentCommand({ arn: 'arn:aws:greengrass:us-east-1:1:components:X' })),
        'ValidationException',
        'arn',
      );
      await expectServiceError(
        h.client.send(new GetComponentCommand({ arn: arnOf('com.example.None', '1.0.0') })),
        'ResourceNotFoundException',
      );
      await expectServiceError(
        h.client.send(
          new GetComponentCommand({
            arn: arnOf('com.example.None', '1.0.0'),
            recipeOutputFormat: 'XML' as 'JSON',
          }),
        ),
        'ValidationException',
        'recipeOutputFormat',
      );
    });
  });

  describe('ListComponents, ListComponentVersions [CP-41] [CP-42]', () => {
    it('lists versions greatest first, across pages', async () => {
      for (const v of ['1.0.0', '1.10.0', '1.2.0', '2.0.0-beta.1', '0.9.0'])
        await create(simpleRecipe('com.example.V', v));
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await h.client.send(
          new ListComponentVersionsCommand({ arn: arnOf('com.example.V'), maxResults: 2, nextToken }),
        );
        expect(page.componentVersions!.length).to.be.at.most(2);
        seen.push(...page.componentVersions!.map((v) => v.componentVersion!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(seen).to.deep.equal(['2.0.0-beta.1', '1.10.0', '1.2.0', '1.0.0', '0.9.0']);
    });

    it('refuses maxResults out of range, a bad nextToken and a version ARN', async () => {
      await create(simpleRecipe('com.example.V', '1.0.0'));
      for (const maxResults of [0, 101])
        await expectServiceError(
          h.client.send(new ListComponentVersionsCommand({ arn: arnOf('com.example.V'), maxResults })),
          'ValidationException',
          'maxResults',
        );
      await expectServiceError(
        h.client.send(new ListComponentVersionsCommand({ arn: arnOf('com.example.V'), nextToken: '!!' })),
        'ValidationException',
        'nextToken',
      );
      await expectServiceError(
        h.client.send(new ListComponentVersionsCommand({ arn: arnOf('com.example.V', '1.0.0') })),
        'ValidationException',
        'arn',
      );
      await expectServiceError(
        h.client.send(new ListComponentVersionsCommand({ arn: arnOf('com.example.Nope') })),
        'ResourceNotFoundException',
      );
    });

    it('lists components with their latest version, paginated; PUBLIC scope is empty offline', async () => {
      for (const n of ['c.A', 'c.B', 'c.C']) await create(simpleRecipe(n, '1.0.0'));
      await create(simpleRecipe('c.B', '1.5.0'));
      const p1 = await h.client.send(new ListComponentsCommand({ maxResults: 2 }));
      expect(p1.components!.map((c) => c.componentName)).to.deep.equal(['c.A', 'c.B']);
      expect(p1.components![1].latestVersion?.componentVersion).to.equal('1.5.0');
      expect(p1.nextToken).to.be.a('string');
      const p2 = await h.client.send(new ListComponentsCommand({ maxResults: 2, nextToken: p1.nextToken }));
      expect(p2.components!.map((c) => c.componentName)).to.deep.equal(['c.C']);
      expect(p2.nextToken).to.equal(undefined);
      const pub = await h.client.send(new ListComponentsCommand({ scope: 'PUBLIC' }));
      expect(pub.components).to.deep.equal([]);
      await expectServiceError(
        h.client.send(new ListComponentsCommand({ scope: 'ALL' as 'PUBLIC' })),
        'ValidationException',
        'scope',
      );
    });
  });

  describe('DeleteComponent [CP-29]', () => {
    it('deletes a version with 204; a second delete is not found', async () => {
      const out = await create(simpleRecipe('com.example.Del', '1.0.0'));
      const del = await h.client.send(new DeleteComponentCommand({ arn: out.arn }));
      expect(del.$metadata.httpStatusCode).to.equal(204);
      await expectServiceError(
        h.client.send(new DescribeComponentCommand({ arn: out.arn })),
        'ResourceNotFoundException',
      );
      await expectServiceError(
        h.client.send(new DeleteComponentCommand({ arn: out.arn })),
        'ResourceNotFoundException',
      );
      await expectServiceError(
        h.client.send(new DeleteComponentCommand({ arn: 'not-an-arn' })),
        'ValidationException',
        'arn',
      );
    });
  });

  describe('ResolveComponentCandidates [CP-48] (CL-24..CL-26)', () => {
    beforeEach(async () => {
      await create(simpleRecipe('com.example.Res', '1.0.0'));
      await create(simpleRecipe('com.example.Res', '1.5.0'));
      await create(simpleRecipe('com.example.Res', '2.0.0'));
      await create(
        simpleRecipe('com.example.Win', '1.0.0', {
          Manifests: [{ Platform: { os: 'windows' }, Lifecycle: {} }],
        }),
      );
    });
    const resolve = (name: string, versionRequirements: Record<string, string>, os = 'linux') =>
      h.client.send(
        new ResolveComponentCandidatesCommand({
          platform: { attributes: { os, architecture: 'amd64' } },
          componentCandidates: [{ componentName: name, versionRequirements }],
        }),
      );

    it('picks the greatest version satisfying every requirement, with its JSON recipe', async () => {
      const out = await resolve('com.example.Res', { 'thinggroup/G': '>=1.0.0 <2.0.0', Dep: '^1.0.0' });
      expect(out.resolvedComponentVersions).to.have.length(1);
      const r = out.resolvedComponentVersions![0];
      expect(r.componentVersion).to.equal('1.5.0');
      expect(r.arn).to.equal(arnOf('com.example.Res', '1.5.0'));
      expect(r.vendorGuidance).to.equal('ACTIVE');
      expect(JSON.parse(Buffer.from(r.recipe!).toString()).ComponentVersion).to.equal('1.5.0');
      const exact = await resolve('com.example.Res', { 'thing/T': '=1.0.0' });
      expect(exact.resolvedComponentVersions![0].componentVersion).to.equal('1.0.0');
    });

    it('answers 404 "no usable version" or "claim platform" as the nucleus expects (CL-26)', async () => {
      const none = await expectServiceError(
        resolve('com.example.Res', { G: '>=3.0.0' }),
        'ResourceNotFoundException',
      );
      expect(String(none.message)).to.contain('no usable version');
      const plat = await expectServiceError(resolve('com.example.Win', {}), 'ResourceNotFoundException');
      expect(String(plat.message)).to.contain('claim platform');
      const ok = await resolve('com.example.Win', {}, 'windows');
      expect(ok.resolvedComponentVersions![0].componentVersion).to.equal('1.0.0');
    });

    it('refuses a bad range and a missing candidate list', async () => {
      await expectServiceError(
        resolve('com.example.Res', { G: 'not a range!' }),
        'ValidationException',
        'componentCandidates[0].versionRequirements',
      );
      await expectServiceError(
        h.client.send(new ResolveComponentCandidatesCommand({ platform: { attributes: { os: 'linux' } } })),
        'ValidationException',
        'componentCandidates',
      );
    });
  });
});
