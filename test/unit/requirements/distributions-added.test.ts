// The mapping entries added for issue 11, each with where it was checked. "pipreqs" is the mapping
// file of bndr/pipreqs (pipreqs/mapping), "pants" the default module mapping of pantsbuild/pants
// (default_module_mapping.py), "marimo" the module-to-PyPI map of marimo-team/marimo
// (marimo/_runtime/packages/module_name_to_pypi_name.py), "docs" the distribution's own install
// instructions. Entries were checked by hand against those files; none of them is copied here.
import { describe, expect, it } from 'vitest';
import { distributionForModule, normalizeName } from '../../../src/requirements/index.js';

const added: Array<[module: string, distribution: string, source: string]> = [
  ['nio', 'matrix-nio', 'docs: matrix-nio ("pip install matrix-nio", import nio)'],
  ['apiclient', 'google-api-python-client', 'pipreqs'],
  ['gflags', 'python-gflags', 'pipreqs'],
  ['pycrfsuite', 'python-crfsuite', 'pipreqs'],
  ['skbio', 'scikit-bio', 'pipreqs'],
  ['skopt', 'scikit-optimize', 'docs: scikit-optimize'],
  ['sksurv', 'scikit-survival', 'docs: scikit-survival'],
  ['skvideo', 'scikit-video', 'pants, marimo'],
  ['elftools', 'pyelftools', 'pipreqs, marimo'],
  ['enchant', 'pyenchant', 'pipreqs'],
  ['cups', 'pycups', 'pipreqs'],
  ['daemon', 'python-daemon', 'pipreqs'],
  ['hamcrest', 'PyHamcrest', 'pipreqs, pants'],
  ['libcloud', 'apache-libcloud', 'pipreqs'],
  ['airflow', 'apache-airflow', 'pipreqs, pants'],
  ['png', 'pypng', 'pipreqs'],
  ['shapefile', 'pyshp', 'pipreqs, pants'],
  ['stdnum', 'python-stdnum', 'pipreqs'],
  ['winrm', 'pywinrm', 'pipreqs, pants'],
  ['sass', 'libsass', 'pipreqs'],
  ['mpv', 'python-mpv', 'pipreqs'],
  ['freetype', 'freetype-py', 'pipreqs'],
  ['pythonjsonlogger', 'python-json-logger', 'pipreqs, pants'],
  ['robot', 'robotframework', 'pipreqs'],
  ['samtranslator', 'aws-sam-translator', 'pipreqs'],
  ['cfnlint', 'cfn-lint', 'pipreqs, marimo'],
  ['tidylib', 'pytidylib', 'pipreqs'],
  ['appium', 'Appium-Python-Client', 'pipreqs, marimo'],
  ['pydispatch', 'PyDispatcher', 'pipreqs'],
  ['progressbar', 'progressbar2', 'pipreqs, pants'],
  ['github3', 'github3.py', 'pipreqs'],
  ['auth0', 'auth0-python', 'pants, marimo'],
  ['digitalocean', 'python-digitalocean', 'pipreqs'],
  ['bugzilla', 'python-bugzilla', 'pipreqs'],
  ['cattr', 'cattrs', 'pants'],
  ['elasticapm', 'elastic-apm', 'pants'],
  ['graphql', 'graphql-core', 'pants'],
  ['ldclient', 'launchdarkly-server-sdk', 'pants'],
  ['mailparser', 'mail-parser', 'pants'],
  ['piptools', 'pip-tools', 'pants'],
  ['erfa', 'pyerfa', 'pants'],
  ['sseclient', 'sseclient-py', 'pants'],
  ['st_aggrid', 'streamlit-aggrid', 'pants'],
  ['delta', 'delta-spark', 'pants'],
  ['datahub', 'acryl-datahub', 'pants'],
  ['oauth2_provider', 'django-oauth-toolkit', 'pants'],
  ['rest_framework_simplejwt', 'djangorestframework-simplejwt', 'pants'],
  ['google.cloud.sql.connector', 'cloud-sql-python-connector', 'pants'],
  ['haiku', 'dm-haiku', 'docs: dm-haiku'],
  ['tree', 'dm-tree', 'docs: dm-tree'],
  ['sonnet', 'dm-sonnet', 'docs: dm-sonnet'],
  ['sdl2', 'PySDL2', 'docs: PySDL2'],
  ['markdown_it', 'markdown-it-py', 'docs: markdown-it-py'],
  ['aws_cdk', 'aws-cdk-lib', 'docs: AWS CDK v2 (aws-cdk-lib)'],
  ['haystack', 'haystack-ai', 'docs: Haystack 2.x (pipreqs names django-haystack, an older claimant of the module)'],
  ['solcx', 'py-solc-x', 'docs: py-solc-x'],
  ['trello', 'py-trello', 'docs: py-trello'],
  ['currency_converter', 'CurrencyConverter', 'docs: CurrencyConverter'],
  ['azure.cognitiveservices.speech', 'azure-cognitiveservices-speech', 'docs: Azure Speech SDK'],
  ['agents', 'openai-agents', 'marimo; docs: OpenAI Agents SDK'],
  ['dagger', 'dagger-io', 'marimo'],
  ['fasthtml', 'python-fasthtml', 'marimo'],
  ['ell', 'ell-ai', 'marimo'],
  ['hulearn', 'human-learn', 'marimo'],
  ['ibis', 'ibis-framework', 'marimo (which adds the [duckdb] extra)'],
  ['quaternion', 'numpy-quaternion', 'marimo'],
  ['sklego', 'scikit-lego', 'marimo'],
  ['upath', 'universal-pathlib', 'marimo'],
  ['redcap', 'PyCap', 'marimo'],
];

describe('mapping entries added for the package gate', () => {
  it.each(added)('%s -> %s (%s)', (module, distribution, source) => {
    expect(source).not.toBe('');
    expect(distributionForModule(module)).toBe(distribution);
    // Each entry is needed: the import name alone would name another project.
    expect(normalizeName(module.split('.')[0] ?? module)).not.toBe(normalizeName(distribution));
  });

  it('keeps submodules on the same distribution', () => {
    expect(distributionForModule('nio.crypto')).toBe('matrix-nio');
    expect(distributionForModule('azure.cognitiveservices.speech.audio')).toBe('azure-cognitiveservices-speech');
  });
});
