/**
 * TensorFlow SavedModels in and out of {@code .cai} archives, and {@code .cai} archives loaded back
 * into TF Java 1.1.0.
 *
 * <p>Compress: {@link dev.selfbyt.cortexsdr.tensorflow.SavedModelReader} opens a SavedModel folder
 * as a {@link dev.selfbyt.cortexsdr.core.tensor.TensorSource}: each variable of the
 * {@code variables/} checkpoint is one tensor, read by this package's own Java reader of
 * TensorFlow's checkpoint format (the {@code variables.index} table and its data shards), so
 * compressing and decompressing need no native code. {@link
 * dev.selfbyt.cortexsdr.tensorflow.VariableRoles} finds each variable's role and reduction axis in
 * the MetaGraph from the ops that read it (MatMul, BatchMatMul, Conv2D, Gather, BiasAdd, batch
 * norms), never from names. The graph segment of the {@code .cai} holds a {@link
 * dev.selfbyt.cortexsdr.tensorflow.SavedModelSkeleton}: {@code saved_model.pb} as it was, the other
 * small files of the folder (assets, fingerprint) and the checkpoint's entry metadata.
 *
 * <p>Back: {@link dev.selfbyt.cortexsdr.tensorflow.SavedModelWriter} writes a SavedModel folder
 * with the decoded variables (a fresh checkpoint through {@link
 * dev.selfbyt.cortexsdr.tensorflow.CheckpointWriter}; bit-identical variables for the lossless
 * preset); {@link dev.selfbyt.cortexsdr.tensorflow.CaiSavedModel} loads a {@code .cai} as TF Java's
 * own {@code SavedModelBundle}; {@link dev.selfbyt.cortexsdr.tensorflow.SavedModelCalibrator} runs
 * the model in TF Java on calibration inputs for GPTQ rounding of MatMul weights and checks the
 * outputs.
 *
 * <p>Checkpoint format classes: {@link dev.selfbyt.cortexsdr.tensorflow.TableReader} and {@link
 * dev.selfbyt.cortexsdr.tensorflow.TableWriter} (the LevelDB-style sorted table of the index),
 * {@link dev.selfbyt.cortexsdr.tensorflow.CheckpointIndex} (the header and one {@code
 * BundleEntryProto} per variable), {@link dev.selfbyt.cortexsdr.tensorflow.TfDTypes} (TensorFlow
 * element types to {@code .cai} ones).
 *
 * <p>TensorFlow's native library (the {@code tensorflow-core-native} jar with classifier {@code
 * linux-x86_64}, 160 MB) is an optional dependency: only {@link
 * dev.selfbyt.cortexsdr.tensorflow.CaiSavedModel} and the calibrator run the model, and without the
 * library they fail with {@link dev.selfbyt.cortexsdr.tensorflow.TensorFlowRuntime}'s message that
 * names the artifact to add.
 *
 * <p>Errors ({@link dev.selfbyt.cortexsdr.tensorflow.SavedModelFormatException}) name the file, the
 * variable and the cause: a missing or truncated shard, a shape that disagrees with the graph, a
 * checksum mismatch, a folder that is not a SavedModel.
 */
package dev.selfbyt.cortexsdr.tensorflow;
