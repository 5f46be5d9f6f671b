/**
 * Real models and real text for end-to-end measurements: {@link
 * dev.selfbyt.cortexsdr.it.models.RealModel} (the BERT-family encoders shipped in Maven jars, with
 * ONNX Runtime's int8 twins), {@link dev.selfbyt.cortexsdr.it.models.MobyDick} (sentences from the
 * npm dataset the build unpacks), {@link dev.selfbyt.cortexsdr.it.models.Embedder} (tokenize, run in
 * ONNX Runtime, pool), {@link dev.selfbyt.cortexsdr.it.models.ModelReport}, the README's main
 * job and the source of the real-model tables in docs/benchmarks.md, and {@link
 * dev.selfbyt.cortexsdr.it.models.ControlFlowModels} (an {@code If} with weights in its branches,
 * built here, and PyTorch {@code If}/{@code Loop}/{@code LSTM}/{@code GRU} exports made by {@code
 * src/main/python/control_flow_models.py}), {@link dev.selfbyt.cortexsdr.it.models.FashionMnist}
 * (Debian's Fashion-MNIST and two classifiers trained on it by {@code
 * src/main/python/fashion_models.py}), {@link dev.selfbyt.cortexsdr.it.models.LineScenes} (M-LSD's
 * synthetic inputs) and {@link dev.selfbyt.cortexsdr.it.models.CalibratedRun} (compress by a recipe,
 * calibrated or not, and export for the default and newest ONNX Runtime targets), {@link
 * dev.selfbyt.cortexsdr.it.models.PeakAgreement} (two peak maps compared as detections).
 */
package dev.selfbyt.cortexsdr.it.models;
