import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  artifactFileName,
  artifactsDir,
  parseRecipeFileName,
  recipeFileName,
  recipeFilePath,
  recipeMetadataFileName,
  unarchivedArtifactDir,
  workDir,
} from '../../../src/recipe/index.js';

describe('component store naming', () => {
  it('[RC-36] recipe file name is base64url-nopad(SHA-256(name))@version.recipe.yaml', () => {
    const hash = createHash('sha256').update('aws.greengrass.Nucleus').digest('base64');
    const expected = hash.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(recipeFileName('aws.greengrass.Nucleus', '2.18.0')).to.equal(`${expected}@2.18.0.recipe.yaml`);
    expect(recipeFileName('x', '1.0.0')).to.not.match(/[+/=]/);
    expect(recipeFilePath('/gg', 'x', '1.0.0')).to.equal(
      `/gg/packages/recipes/${recipeFileName('x', '1.0.0')}`,
    );
  });

  it('[RC-37] metadata file sits beside the recipe', () => {
    expect(recipeMetadataFileName('x', '1.0.0')).to.equal(
      recipeFileName('x', '1.0.0').replace('.recipe.yaml', '.metadata.json'),
    );
  });

  it('[RC-36] parses store recipe file names back, refusing others', () => {
    expect(parseRecipeFileName(recipeFileName('a.b', '1.0.0-rc.1'))).to.deep.equal({
      nameHash: recipeFileName('a.b', '1').split('@')[0],
      version: '1.0.0-rc.1',
    });
    expect(parseRecipeFileName('a.b-1.0.0.yaml')).to.equal(undefined);
  });

  it('[RC-38] artifact and unarchived paths', () => {
    expect(artifactsDir('/gg', 'A', '1.0.0')).to.equal('/gg/packages/artifacts/A/1.0.0');
    expect(unarchivedArtifactDir('/gg', 'A', '1.0.0', 'bundle.v2.zip')).to.equal(
      '/gg/packages/artifacts-unarchived/A/1.0.0/bundle.v2',
    );
    expect(unarchivedArtifactDir('/gg', 'A', '1.0.0', 'noext')).to.equal(
      '/gg/packages/artifacts-unarchived/A/1.0.0/noext',
    );
    expect(workDir('/gg', 'A')).to.equal('/gg/work/A');
  });

  it('[RC-38] artifact file name is the last URI path segment', () => {
    expect(artifactFileName('s3://bucket/a/b/hello_world.py')).to.equal('hello_world.py');
    expect(artifactFileName('greengrass:hello.zip')).to.equal('hello.zip');
    expect(artifactFileName('https://example.com/x/file.tar?sig=1')).to.equal('file.tar');
  });
});
