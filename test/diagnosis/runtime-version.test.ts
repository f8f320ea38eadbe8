import { describe, expect, it } from 'vitest';
import { cgroupBlindRuntime, imageNameAndTag } from '../../diagnosis/runtime-version.js';

describe('cgroupBlindRuntime', () => {
  it.each([
    ['openjdk:8u362-jre', 'JDK 8u362'],
    ['eclipse-temurin:8u352-b08-jre', 'JDK 8u352'],
    ['registry.example:5000/base/openjdk:1.8.0_345', 'JDK 8u345'],
    ['eclipse-temurin:11.0.15_10-jre', 'JDK 11.0.15'],
    ['amazoncorretto:11.0.14.10.1', 'JDK 11.0.14'],
    ['openjdk:14-jdk', 'JDK 14'],
    ['node:18.19.0-alpine', 'Node.js 18.19'],
    ['node:16', 'Node.js 16'],
    ['node:20.2.0@sha256:0123456789abcdef', 'Node.js 20.2'],
  ])('%s is blind to cgroup v2 (%s)', (image, named) => {
    const r = cgroupBlindRuntime(image);
    expect(r && `${r.runtime} ${r.version}`).toBe(named);
  });

  it.each([
    'openjdk:8u372-jre',
    'eclipse-temurin:11.0.16_8-jre',
    'openjdk:11',
    'eclipse-temurin:17',
    'eclipse-temurin:21.0.5_11-jre',
    'node:20',
    'node:20.3.0',
    'node:22.11-alpine',
    'registry.example.com/shop/api:11.0.1',
    'openjdk',
    'my-node-app:18.0.0',
  ])('%s is not flagged (fixed, floating, or not a runtime image)', (image) => {
    expect(cgroupBlindRuntime(image)).toBeUndefined();
  });

  it('splits registry ports from tags', () => {
    expect(imageNameAndTag('registry:5000/team/openjdk:11.0.15')).toEqual({ name: 'openjdk', tag: '11.0.15' });
    expect(imageNameAndTag('registry:5000/team/openjdk')).toBeUndefined();
  });
});
