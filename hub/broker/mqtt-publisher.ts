/**
 * MqttPublisher: how hub modules publish (acks, retained configs). Implemented by the hub's one
 * mqtt.js client (hub-mqtt-client.ts), whether the broker is embedded or external.
 * Contract: resolves when the broker accepted the message (PUBACK for QoS 1, written for QoS 0);
 * rejects if the client is not connected and cannot queue it. An empty payload with retain clears
 * the retained message [MQTT-3.3.1-10].
 */
export interface MqttPublisher {
  publish(topic: string, payload: Uint8Array, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}
