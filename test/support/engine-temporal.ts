// jest project `temporal` (jest.config.js): the files that run on both engines run on Temporal here.
process.env.SHIFAN_TEST_ENGINE = 'temporal';
