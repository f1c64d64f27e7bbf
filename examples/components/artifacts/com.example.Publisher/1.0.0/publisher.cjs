// A Greengrass component written with the official aws-iot-device-sdk-v2 IPC client: it connects
// through the SVCUID and socket the nucleus gives it, then publishes a counter on a local topic.
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');

async function main() {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  const topic = process.env.TOPIC || 'tendril/demo/counter';
  const interval = Number(process.env.INTERVAL_MS || 2000);
  let n = 0;
  const publish = async () => {
    n += 1;
    await client.publishToTopic({
      topic,
      publishMessage: { jsonMessage: { message: { n, at: Date.now() } } },
    });
    console.log(`published ${n} on ${topic}`);
  };
  await publish();
  setInterval(() => publish().catch((e) => console.error(`publish failed: ${e.message}`)), interval);
  const stop = async () => {
    await client.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`publisher failed: ${e.message}`);
  process.exit(1);
});
