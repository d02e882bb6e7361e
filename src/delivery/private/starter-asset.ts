import * as fs from 'fs';
import * as path from 'path';
import { AssetHashType, DockerImage, FileSystem } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/**
 * npm never packs a file named `.gitignore`, and every jsii language ships the npm tarball, so the starter's
 * `.gitignore` is kept as `gitignore` in assets/starter. The seeded repository gets its real name back here: the asset
 * is staged at synth by a plain copy (local bundling, no Docker) that renames the one file.
 */
export const SHIPPED_GITIGNORE = 'gitignore';

/** An S3 asset of the starter directory, as the repository's first commit should hold it. */
export function starterRepositoryAsset(scope: Construct, id: string, directory: string, exclude: string[]): s3assets.Asset {
  return new s3assets.Asset(scope, id, {
    path: directory,
    assetHashType: AssetHashType.OUTPUT, // the hash names what is uploaded, `.gitignore` included
    bundling: {
      // Required by the type, never pulled: the local copy below always succeeds or throws.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir: string): boolean {
          FileSystem.copyDirectory(directory, outputDir, { exclude });
          fs.renameSync(path.join(outputDir, SHIPPED_GITIGNORE), path.join(outputDir, '.gitignore'));
          return true;
        },
      },
    },
  });
}
