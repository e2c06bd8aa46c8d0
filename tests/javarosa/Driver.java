// The JavaRosa side of the differential test (tests/test_javarosa_diff.py).
//
// Reads cases from stdin, one JVM for a whole batch; for each case loads an XForm with
// JavaRosa (the engine of ODK Collect, inside pyxform's ODK_Validate.jar), sets the
// answers in document order as a person would, and prints one JSON line with every
// decision JavaRosa takes: relevance, required and constraint validity of each node,
// and each node's value (calculations included).
//
// Input lines (tab separated; values base64 of UTF-8):
//   CASE <id> <xform path> <folder of the form's CSV files>
//   A <path such as /data/group/x> <base64 value>
//   RUN
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.data.AnswerDataFactory;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.data.UncastData;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.model.instance.TreeReference;
import org.javarosa.core.reference.*;
import org.javarosa.xform.util.XFormUtils;

public class Driver {
    static String folder = ".";

    static final class FileRef implements Reference {
        final String uri;
        final Path path;
        FileRef(String uri, Path path) { this.uri = uri; this.path = path; }
        public boolean doesBinaryExist() { return Files.exists(path); }
        public InputStream getStream() throws IOException { return Files.newInputStream(path); }
        public String getURI() { return uri; }
        public String getLocalURI() { return path.toString(); }
        public boolean isReadOnly() { return true; }
        public OutputStream getOutputStream() throws IOException { throw new IOException("read only"); }
        public void remove() throws IOException { throw new IOException("read only"); }
        public Reference[] probeAlternativeReferences() { return new Reference[0]; }
    }

    static final class Files4Form implements ReferenceFactory {
        public boolean derives(String uri) { return uri.startsWith("jr://"); }
        public Reference derive(String uri) {
            String name = uri.substring(uri.lastIndexOf('/') + 1);
            return new FileRef(uri, Paths.get(folder, name));
        }
        public Reference derive(String uri, String context) { return derive(uri); }
    }

    public static void main(String[] args) throws Exception {
        new org.javarosa.model.xform.XFormsModule().registerModule();
        // Metadata preloaders (start, end, deviceid, username...) ask the property
        // manager; ODK Validate installs its stub, and so do we.
        org.javarosa.core.services.PropertyManager.setPropertyManager(
            new org.opendatakit.validate.StubPropertyManager());
        ReferenceManager.instance().addReferenceFactory(new Files4Form());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(quiet);  // JavaRosa logs to stdout; the JSON lines own it
        String id = null, xform = null;
        List<String[]> answers = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            if (f[0].equals("CASE")) {
                id = f[1]; xform = f[2]; folder = f[3]; answers.clear();
            } else if (f[0].equals("A")) {
                String value = new String(Base64.getDecoder().decode(f[2]), StandardCharsets.UTF_8);
                answers.add(new String[] {f[1], value});
            } else if (f[0].equals("RUN")) {
                StringBuilder sb = new StringBuilder();
                try {
                    run(sb, id, xform, answers);
                } catch (Throwable e) {
                    sb.setLength(0);
                    sb.append("{\"case\":").append(q(id)).append(",\"error\":").append(q(String.valueOf(e))).append("}");
                }
                out.println(sb);
            }
        }
    }

    static void run(StringBuilder sb, String id, String xform, List<String[]> answers) throws Exception {
        FormDef fd;
        try (InputStream s = Files.newInputStream(Paths.get(xform))) {
            fd = XFormUtils.getFormFromInputStream(s);
        }
        // A repeat starts with no entries, as at the kiosk (pyxform writes a first one,
        // which Collect offers to fill or delete): remove them before the form starts.
        dropRepeatEntries(fd.getMainInstance().getRoot());
        fd.initialize(true, new InstanceInitializationFactory());
        TreeElement root = fd.getMainInstance().getRoot();
        List<String> unknown = new ArrayList<>();
        for (String[] a : answers) {
            TreeElement e = find(root, a[0]);
            if (e == null) { unknown.add(a[0]); continue; }
            IAnswerData data = a[1].isEmpty() ? null
                : AnswerDataFactory.templateByDataType(e.getDataType()).cast(new UncastData(a[1]));
            fd.setValue(data, e.getRef(), true);
        }
        sb.append("{\"case\":").append(q(id)).append(",\"nodes\":{");
        boolean[] first = {true};
        walk(fd, root, "/data", sb, first);  // the root by one name, whatever the form calls it
        sb.append("},\"unknown\":[");
        for (int i = 0; i < unknown.size(); i++) sb.append(i > 0 ? "," : "").append(q(unknown.get(i)));
        sb.append("]}");
    }

    static void dropRepeatEntries(TreeElement e) {
        for (int i = e.getNumChildren() - 1; i >= 0; i--) {
            TreeElement c = e.getChildAt(i);
            if (c.isRepeatable() && c.getMult() != TreeReference.INDEX_TEMPLATE) e.removeChildAt(i);
            else dropRepeatEntries(c);
        }
    }

    static TreeElement find(TreeElement root, String path) {
        String[] parts = path.split("/");
        TreeElement e = root;
        for (int i = 2; i < parts.length && e != null; i++) e = e.getChild(parts[i], 0);
        return e;
    }

    static void walk(FormDef fd, TreeElement e, String path, StringBuilder sb, boolean[] first) {
        for (int i = 0; i < e.getNumChildren(); i++) {
            TreeElement c = e.getChildAt(i);
            if (c.getMult() == TreeReference.INDEX_TEMPLATE) continue;
            String p = path + "/" + c.getName() + (c.isRepeatable() ? "[" + c.getMult() + "]" : "");
            IAnswerData v = c.getValue();
            sb.append(first[0] ? "" : ",").append(q(p)).append(":{");
            first[0] = false;
            sb.append("\"relevant\":").append(c.isRelevant());
            sb.append(",\"required\":").append(c.isRequired());
            sb.append(",\"type\":").append(c.getDataType());
            sb.append(",\"leaf\":").append(c.isLeaf());
            if (c.isLeaf()) {
                sb.append(",\"value\":").append(v == null ? "null" : q(v.uncast().getString()));
                if (v != null && c.getConstraint() != null) {
                    sb.append(",\"constraint\":").append(fd.evaluateConstraint(c.getRef(), v));
                }
            }
            sb.append("}");
            if (!c.isLeaf()) walk(fd, c, p, sb, first);
        }
    }

    static String q(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') b.append('\\').append(ch);
            else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
            else b.append(ch);
        }
        return b.append('"').toString();
    }
}
