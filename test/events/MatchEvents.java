// Matches EventBridge event patterns against events with AWS's event-ruler, the open-source engine EventBridge's own
// matching derives from, so the tests never judge a pattern with matching code of our own.
// stdin: [{"id": ..., "pattern": {...}, "event": {...}}, ...]; stdout: [{"id": ..., "matched": true|false}, ...].
// A pattern event-ruler refuses fails the run (exit code 1) instead of counting as "no match".
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import software.amazon.event.ruler.Machine;

public class MatchEvents {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ArrayNode results = json.createArrayNode();
    for (JsonNode testCase : json.readTree(System.in)) {
      Machine machine = Machine.builder().build();
      machine.addRule("pattern", json.writeValueAsString(testCase.get("pattern")));
      boolean matched = machine.rulesForJSONEvent(json.writeValueAsString(testCase.get("event"))).contains("pattern");
      results.addObject().put("id", testCase.get("id").asText()).put("matched", matched);
    }
    json.writeValue(System.out, results);
  }
}
