// Subscribes with the official IPC client, then reports RUNNING through UpdateState: the nucleus
// keeps a startup step STARTING until the script exits 0 or the component says it is RUNNING.
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');

async function main() {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  const topic = process.env.TOPIC || 'tendril/demo/counter';
  const sub = client.subscribeToTopic({ topic });
  sub.on('message', (event) => {
    const json = event.jsonMessage;
    console.log(`received on ${json?.context?.topic ?? topic}: ${JSON.stringify(json?.message)}`);
  });
  await sub.activate();
  await client.updateState({ state: 'RUNNING' });
  console.log(`subscribed to ${topic}`);
  process.on('SIGTERM', async () => {
    await client.close().catch(() => {});
    process.exit(0);
  });
}

main().catch((e) => {
  console.error(`subscriber failed: ${e.message}`);
  process.exit(1);
});
