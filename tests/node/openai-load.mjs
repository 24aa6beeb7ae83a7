// Load through the proxy with the official openai npm client: N chat
// completions at once, the models in turn. Prints how they were answered
// as JSON: {answered, status: {code: n}, reasons_missing}; a 503 must say
// why (its error message), anything else unanswered counts as code 0.
// usage: node openai-load.mjs BASE_URL API_KEY N MODEL[,MODEL...]
import OpenAI from 'openai';

const [base, key, n, list] = process.argv.slice(2);
const models = list.split(',');
const client = new OpenAI({ baseURL: base + '/v1', apiKey: key, maxRetries: 0, timeout: 120000 });
const status = {};
let answered = 0, reasonsMissing = 0;
await Promise.all(Array.from({ length: Number(n) }, async (_, i) => {
  const model = models[i % models.length];
  try {
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi ' + i }], max_tokens: 4 });
    if (r.model !== model) throw new Error('answered by ' + r.model + ', not ' + model);
    status[200] = (status[200] || 0) + 1;
    answered++;
  } catch (e) {
    const code = e.status || 0;
    status[code] = (status[code] || 0) + 1;
    if (code) answered++;
    if (code === 503 && !(e.message && e.message.length > 10)) reasonsMissing++;
  }
}));
console.log(JSON.stringify({ answered, status, reasons_missing: reasonsMissing }));
