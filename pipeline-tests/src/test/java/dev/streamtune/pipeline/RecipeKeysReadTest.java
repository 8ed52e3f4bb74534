package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeParser;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * No recipe key is accepted and then ignored: every component of the recipe's records is read by the code that runs
 * recipes (the five services and the shared libraries, the parser excluded, since checking a value is not acting on
 * it), or is on the parser's list of keys it accepts with a warning saying why they have no effect. Found in the
 * compiled classes: a call of the component's accessor, a method reference to it, or a call of one of the record's
 * own methods that reads it ({@code DataConfig.datasetNames()} reads {@code task_name}).
 */
class RecipeKeysReadTest {

    /** The classes that read a recipe only to check it. */
    private static final Set<String> PARSER = Set.of(
            "dev/streamtune/events/recipe/RecipeParser",
            "dev/streamtune/events/recipe/RecipeKeys",
            "dev/streamtune/events/recipe/QuantizationKeys");

    /** Packages whose classes run recipes. The local run and the tests only pass recipes along. */
    private static final List<String> RUNNING = List.of(
            "dev/streamtune/events/",
            "dev/streamtune/lm/",
            "dev/streamtune/streams/",
            "dev/streamtune/ingest/",
            "dev/streamtune/format/",
            "dev/streamtune/tokenize/",
            "dev/streamtune/trainer/",
            "dev/streamtune/eval/");

    /** The classes whose reads must be in what was scanned, or the scan found nothing and proves nothing. */
    private static final List<String> SERVICES = List.of(
            "dev/streamtune/format/", "dev/streamtune/tokenize/", "dev/streamtune/trainer/", "dev/streamtune/eval/");

    private static final Map<String, RecordComponent> COMPONENTS = new LinkedHashMap<>(); // "Owner.name" -> component
    private static final Map<String, String> KEYS = new LinkedHashMap<>(); // "Owner.name" -> "section.key"
    private static final Set<String> READ = new TreeSet<>();
    private static final Set<String> SCANNED = new HashSet<>();

    @BeforeAll
    static void scan() throws IOException {
        for (RecordComponent section : Recipe.class.getRecordComponents()) {
            JsonProperty property = section.getAccessor().getAnnotation(JsonProperty.class);
            if (property != null && isRecipeRecord(section.getType())) {
                collect(section.getType(), property.value());
            }
        }
        Map<String, Set<String>> methodReads = new HashMap<>(); // "Owner.method(desc)" -> components it reads
        List<String[]> calls = new ArrayList<>(); // {"Owner.method(desc)"} made from outside the parser
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.walk(path)) {
                    for (Path file :
                            files.filter(f -> f.toString().endsWith(".class")).toList()) {
                        String name = path.relativize(file).toString().replace('\\', '/');
                        if (running(name)) {
                            try (InputStream in = Files.newInputStream(file)) {
                                visit(in, methodReads, calls);
                            }
                        }
                    }
                }
            } else if (entry.endsWith(".jar") && Files.isRegularFile(path)) {
                try (JarFile jar = new JarFile(path.toFile())) {
                    for (JarEntry file : jar.stream().toList()) {
                        if (file.getName().endsWith(".class") && running(file.getName())) {
                            try (InputStream in = jar.getInputStream(file)) {
                                visit(in, methodReads, calls);
                            }
                        }
                    }
                }
            }
        }
        for (String[] call : calls) {
            READ.addAll(methodReads.getOrDefault(call[0], Set.of()));
        }
    }

    @Test
    void everyKeyIsReadByTheCodeThatRunsRecipesOrWarnedAsHavingNoEffect() {
        assertThat(SERVICES)
                .as("the services' classes are on this test's class path")
                .allMatch(service -> SCANNED.stream().anyMatch(name -> name.startsWith(service)));
        Map<String, String> warned = RecipeParser.acceptedWithoutEffect();
        List<String> neither = new ArrayList<>();
        COMPONENTS.keySet().forEach(component -> {
            if (!READ.contains(component) && !warned.containsKey(KEYS.get(component))) {
                neither.add(KEYS.get(component) + " (" + component + ")");
            }
        });
        assertThat(neither)
                .as("keys a recipe may set that nothing reads: honour each, or list it in the parser's keys"
                        + " accepted without effect with the reason")
                .isEmpty();
    }

    @Test
    void theKeysWarnedAsHavingNoEffectAreKeysNothingReads() {
        Map<String, String> byKey = new HashMap<>();
        KEYS.forEach((component, key) -> byKey.put(key, component));
        RecipeParser.acceptedWithoutEffect().forEach((key, reason) -> {
            assertThat(byKey).as("%s is a key of the recipe's records", key).containsKey(key);
            assertThat(READ)
                    .as("%s is read (%s), so the warning that it has no effect is wrong", key, byKey.get(key))
                    .doesNotContain(byKey.get(key));
            assertThat(reason).as("the reason %s has no effect", key).isNotBlank();
        });
    }

    private static boolean running(String classFile) {
        return RUNNING.stream().anyMatch(classFile::startsWith)
                && PARSER.stream()
                        .noneMatch(parser -> classFile.startsWith(parser + ".") || classFile.startsWith(parser + "$"));
    }

    private static boolean isRecipeRecord(Class<?> type) {
        return type.isRecord() && type.getPackageName().equals("dev.streamtune.events.recipe");
    }

    private static void collect(Class<?> record, String path) {
        PropertyNamingStrategies.SnakeCaseStrategy snake = new PropertyNamingStrategies.SnakeCaseStrategy();
        for (RecordComponent component : record.getRecordComponents()) {
            JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
            String key = property != null && !property.value().isEmpty()
                    ? property.value()
                    : snake.translate(component.getName());
            String id = internal(record) + "." + component.getName();
            COMPONENTS.put(id, component);
            KEYS.put(id, path + "." + key);
            for (Class<?> nested : nestedRecords(component)) {
                if (!KEYS.containsValue(path + "." + key + "." + nested.getSimpleName())) {
                    collect(nested, path + "." + key);
                }
            }
        }
    }

    /** A component's own type, or a list's element type, when it is another record of the recipe. */
    private static List<Class<?>> nestedRecords(RecordComponent component) {
        List<Class<?>> nested = new ArrayList<>();
        if (isRecipeRecord(component.getType())) {
            nested.add(component.getType());
        }
        if (component.getGenericType() instanceof ParameterizedType list) {
            for (Type argument : list.getActualTypeArguments()) {
                if (argument instanceof Class<?> element && isRecipeRecord(element)) {
                    nested.add(element);
                }
            }
        }
        return nested;
    }

    private static String internal(Class<?> type) {
        return type.getName().replace('.', '/');
    }

    private static void visit(InputStream in, Map<String, Set<String>> methodReads, List<String[]> calls)
            throws IOException {
        ClassReader reader = new ClassReader(in);
        String owner = reader.getClassName();
        SCANNED.add(owner);
        reader.accept(
                new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(
                            int access, String method, String descriptor, String signature, String[] exceptions) {
                        String self = owner + "." + method + descriptor;
                        boolean ownRecordMethod = COMPONENTS.keySet().stream().anyMatch(c -> c.startsWith(owner + "."));
                        // a record's accessors, constructors and copies ("withX") touch every component without
                        // acting on any; what matters is who calls them
                        boolean derives = ownRecordMethod
                                && !method.startsWith("<")
                                && !COMPONENTS.containsKey(owner + "." + method)
                                && !org.objectweb.asm.Type.getReturnType(descriptor)
                                        .getInternalName()
                                        .equals(owner)
                                && !Set.of("equals", "hashCode", "toString").contains(method);
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitMethodInsn(
                                    int opcode, String target, String name, String desc, boolean isInterface) {
                                String component = target + "." + name;
                                if (COMPONENTS.containsKey(component) && desc.startsWith("()")) {
                                    read(component);
                                } else if (ownRecordCall(target)) {
                                    calls.add(new String[] {target + "." + name + desc});
                                }
                            }

                            @Override
                            public void visitFieldInsn(int opcode, String target, String name, String desc) {
                                if (derives && opcode == Opcodes.GETFIELD && target.equals(owner)) {
                                    methodReads
                                            .computeIfAbsent(self, k -> new HashSet<>())
                                            .add(target + "." + name);
                                }
                            }

                            @Override
                            public void visitInvokeDynamicInsn(
                                    String name, String desc, Handle bootstrap, Object... arguments) {
                                if (bootstrap.getOwner().equals("java/lang/runtime/ObjectMethods")) {
                                    return; // a record's generated equals/hashCode/toString
                                }
                                for (Object argument : arguments) {
                                    if (argument instanceof Handle handle) {
                                        String component = handle.getOwner() + "." + handle.getName();
                                        if (COMPONENTS.containsKey(component)
                                                && handle.getDesc().startsWith("()")) {
                                            read(component);
                                        } else if (ownRecordCall(handle.getOwner())) {
                                            calls.add(new String[] {
                                                handle.getOwner() + "." + handle.getName() + handle.getDesc()
                                            });
                                        }
                                    }
                                }
                            }

                            /** An accessor called from the record's own derived method counts when that is called. */
                            private void read(String component) {
                                if (derives && component.startsWith(owner + ".")) {
                                    methodReads
                                            .computeIfAbsent(self, k -> new HashSet<>())
                                            .add(component);
                                } else if (!component.startsWith(owner + ".")) {
                                    READ.add(component);
                                }
                            }
                        };
                    }
                },
                ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    }

    private static boolean ownRecordCall(String target) {
        return COMPONENTS.keySet().stream().anyMatch(component -> component.startsWith(target + "."));
    }
}
