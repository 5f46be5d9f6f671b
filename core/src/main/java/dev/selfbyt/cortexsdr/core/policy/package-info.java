/**
 * Which codec each tensor gets. {@link dev.selfbyt.cortexsdr.core.policy.CompressionPolicy}
 * reads {@link dev.selfbyt.cortexsdr.core.CompressionOptions} and answers, per tensor, a {@link
 * dev.selfbyt.cortexsdr.core.policy.TensorPlan}: lossless (with the candidates to try), one fixed
 * codec, or an error budget with candidates ordered from smallest.
 */
package dev.selfbyt.cortexsdr.core.policy;
