// The import-name -> distribution table, dotted namespaces, conventions and caller overrides.
import { describe, expect, it } from 'vitest';
import { moduleDistributions } from '../../../src/requirements/data/distributions.js';
import { isSharedNamespace } from '../../../src/requirements/distributions.js';
import { distributionForModule, normalizeName, resolveDistribution } from '../../../src/requirements/index.js';

describe('distributionForModule', () => {
  const table: Array<[string, string]> = [
    ['cv2', 'opencv-python'],
    ['sklearn', 'scikit-learn'],
    ['sklearn.model_selection', 'scikit-learn'],
    ['yaml', 'PyYAML'],
    ['PIL', 'Pillow'],
    ['PIL.Image', 'Pillow'],
    ['bs4', 'beautifulsoup4'],
    ['dateutil.parser', 'python-dateutil'],
    ['dotenv', 'python-dotenv'],
    ['jwt', 'PyJWT'],
    ['Crypto.Cipher.AES', 'pycryptodome'],
    ['OpenSSL', 'pyOpenSSL'],
    ['serial', 'pyserial'],
    ['docx', 'python-docx'],
    ['fitz', 'PyMuPDF'],
    ['skimage', 'scikit-image'],
    ['attr', 'attrs'],
    ['win32api', 'pywin32'],
    ['mpl_toolkits.mplot3d', 'matplotlib'],
    ['mpl_toolkits.basemap', 'basemap'],
    ['ruamel.yaml', 'ruamel.yaml'],
    ['paho.mqtt.client', 'paho-mqtt'],
    ['google.protobuf', 'protobuf'],
    ['google.protobuf.json_format', 'protobuf'],
    ['google.cloud.storage', 'google-cloud-storage'],
    ['google.cloud.bigquery.job', 'google-cloud-bigquery'],
    ['google.cloud.secretmanager', 'google-cloud-secret-manager'],
    ['google.generativeai', 'google-generativeai'],
    ['google.genai.types', 'google-genai'],
    ['google.oauth2.service_account', 'google-auth'],
    ['azure.identity', 'azure-identity'],
    ['azure.storage.blob.aio', 'azure-storage-blob'],
    ['azure.keyvault.secrets', 'azure-keyvault-secrets'],
    ['opentelemetry.trace', 'opentelemetry-api'],
    ['opentelemetry.sdk.trace', 'opentelemetry-sdk'],
    ['opentelemetry.exporter.otlp.proto.grpc', 'opentelemetry-exporter-otlp'],
    ['zope.interface', 'zope.interface'],
    // Not in the table: the import name is the distribution name.
    ['requests', 'requests'],
    ['numpy.linalg', 'numpy'],
    ['typing_extensions', 'typing_extensions'],
  ];
  it.each(table)('%s -> %s', (module, distribution) => {
    expect(distributionForModule(module)).toBe(distribution);
  });

  it('follows the naming convention of shared namespaces for modules the table lacks', () => {
    expect(resolveDistribution('google.cloud.batch_v1')).toEqual({ distribution: 'google-cloud-batch', source: 'namespace', matched: 'google.cloud' });
    expect(distributionForModule('google.cloud.speech_v1p1beta1')).toBe('google-cloud-speech');
    expect(distributionForModule('google.cloud.network_management')).toBe('google-cloud-network-management');
    expect(distributionForModule('azure.mgmt.containerservice')).toBe('azure-mgmt-containerservice');
    expect(distributionForModule('azure.eventgrid')).toBe('azure-eventgrid');
    expect(distributionForModule('opentelemetry.instrumentation.requests')).toBe('opentelemetry-instrumentation-requests');
    expect(distributionForModule('opentelemetry.exporter.jaeger.thrift')).toBe('opentelemetry-exporter-jaeger');
    expect(distributionForModule('zope.component')).toBe('zope.component');
    expect(distributionForModule('sphinxcontrib.mermaid')).toBe('sphinxcontrib-mermaid');
  });

  it('names nothing for a bare shared namespace or for something no index has', () => {
    expect(distributionForModule('google')).toBeUndefined();
    expect(distributionForModule('google.cloud')).toBeUndefined();
    expect(distributionForModule('azure')).toBeUndefined();
    expect(distributionForModule('google.colab')).toBeUndefined();
    expect(resolveDistribution('google.colab')).toEqual({ distribution: null, source: 'table', matched: 'google.colab' });
  });

  it('lets caller overrides win, by longest dotted prefix, with null meaning "not a requirement"', () => {
    const overrides = { cv2: 'opencv-python-headless', 'google.cloud': 'my-google-cloud', mylib: null, 'pkg.sub': 'pkg-sub==1.0' };
    expect(distributionForModule('cv2', overrides)).toBe('opencv-python-headless');
    expect(distributionForModule('google.cloud.storage', overrides)).toBe('my-google-cloud');
    expect(distributionForModule('google.protobuf', overrides)).toBe('protobuf');
    expect(distributionForModule('mylib.tools', overrides)).toBeUndefined();
    expect(resolveDistribution('mylib', overrides)?.source).toBe('override');
    expect(distributionForModule('pkg.sub.deep', overrides)).toBe('pkg-sub==1.0');
    expect(distributionForModule('pkg', overrides)).toBe('pkg');
  });
});

describe('the table', () => {
  const entries = Object.entries(moduleDistributions);

  it('covers at least 150 imports whose distribution name differs', () => {
    const differing = entries.filter(([module, distribution]) => distribution === null || normalizeName(module.split('.')[0] ?? module) !== normalizeName(distribution));
    expect(differing.length).toBeGreaterThanOrEqual(150);
  });

  it('has only well-formed keys and PEP 508 names', () => {
    for (const [module, distribution] of entries) {
      expect(module).toMatch(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/);
      if (distribution !== null) expect(distribution).toMatch(/^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/);
    }
  });
});

describe('isSharedNamespace', () => {
  it.each([
    ['google', true],
    ['google.cloud', true],
    ['azure', true],
    ['azure.storage', true],
    ['opentelemetry', true],
    ['mpl_toolkits', true],
    ['azure.identity', false],
    ['google.protobuf', false],
    ['PIL', false],
    ['requests', false],
  ])('%s: %s', (module, expected) => {
    expect(isSharedNamespace(module)).toBe(expected);
  });
});
