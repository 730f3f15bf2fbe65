/**
 * Property tests run on a fixed seed unless FC_SEED says otherwise, so a CI run is reproducible;
 * run `FC_SEED=random bash .ci/run` (or any number) to explore new cases.
 */
import fc from 'fast-check';

const env = process.env['FC_SEED'];
if (env !== 'random') fc.configureGlobal({ seed: env ? Number(env) : 20261122 });
